using JpegLm.Codec.Tokens;
using JpegLm.Engine.Model;

namespace JpegLm.Cli.Pipeline;

/// <summary>
/// A training run's folder: the Hugging Face files (<c>config.json</c>, <c>model.safetensors</c>), the
/// trainer state, the data set's <c>profile.json</c> and <c>vocab.json</c> (so a model always travels with
/// the codec settings and tokenizer it was trained on), <c>loss.csv</c> and <c>loss.png</c>.
/// </summary>
internal sealed class RunFolder(string path)
{
    /// <summary>The folder.</summary>
    public string Path { get; } = path;

    public string ProfileFile => System.IO.Path.Combine(Path, "profile.json");

    public string VocabularyFile => System.IO.Path.Combine(Path, "vocab.json");

    public string LossCsv => System.IO.Path.Combine(Path, "loss.csv");

    public string LossPng => System.IO.Path.Combine(Path, "loss.png");

    public bool HasModel => File.Exists(System.IO.Path.Combine(Path, HfCheckpoint.ConfigFile)) && File.Exists(System.IO.Path.Combine(Path, HfCheckpoint.WeightsFile));

    /// <summary>Loads the profile (JPEG or AVC) and vocabulary saved with the run.</summary>
    public (CodecProfile Profile, BpeVocabulary Vocabulary) LoadProfile()
    {
        if (!File.Exists(ProfileFile) || !File.Exists(VocabularyFile))
        {
            throw new FileNotFoundException($"{Path} has no profile.json/vocab.json: not a jpeglm run folder (train one with jpeglm train)");
        }

        return (CodecProfile.Load(ProfileFile), BpeVocabulary.Load(VocabularyFile));
    }

    /// <summary>Whether the run was trained on video (an AVC profile).</summary>
    public bool IsVideo => File.Exists(ProfileFile) ? CodecProfile.Load(ProfileFile) is AvcProfile
        : throw new FileNotFoundException($"{Path} has no profile.json: not a jpeglm run folder (train one with jpeglm train)");

    /// <summary>Loads the profile and vocabulary of a JPEG run.</summary>
    public (JpegProfile Profile, BpeVocabulary Vocabulary) LoadCodec()
    {
        (CodecProfile profile, BpeVocabulary vocabulary) = LoadProfile();
        return (profile as JpegProfile ?? throw new NotSupportedException($"{ProfileFile}: not a JPEG profile"), vocabulary);
    }
}

using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;

namespace JpegLm.Cli.Pipeline;

/// <summary>
/// A run folder opened for generation: its profile (of the kind a session needs), its vocabulary, the backend and
/// the model's weights on it. The one place every sampling session (JPEG, raw pixels, H.264) loads a run, so they
/// check it the same way and the backend (a GPU context) is freed when the weights turn out to be unreadable.
/// </summary>
/// <typeparam name="TProfile">The profile the session works with; a run of another kind is refused.</typeparam>
internal sealed class LoadedRun<TProfile> : IDisposable
    where TProfile : CodecProfile
{
    /// <summary>
    /// Loads <paramref name="runPath"/>: throws <see cref="FileNotFoundException"/> when it holds no model,
    /// <see cref="NotSupportedException"/> when its profile is not a <typeparamref name="TProfile"/> (named
    /// <paramref name="kind"/> in the message), and the loader's <see cref="FormatException"/> for unreadable files.
    /// <paramref name="check"/> may refuse the profile and vocabulary before any backend is opened.
    /// </summary>
    public LoadedRun(string runPath, string device, TextWriter log, string kind, Action<TProfile, BpeVocabulary>? check = null)
    {
        var run = new RunFolder(runPath);
        if (!run.HasModel)
        {
            throw new FileNotFoundException($"{runPath}: no config.json + model.safetensors (train a model with jpeglm train)");
        }

        (CodecProfile profile, BpeVocabulary vocabulary) = run.LoadProfile();
        Profile = profile as TProfile ?? throw new NotSupportedException($"{runPath}: not a {kind} run ({run.ProfileFile} is a {profile.Name} profile)");
        Vocabulary = vocabulary;
        check?.Invoke(Profile, Vocabulary);
        Kernels = Backends.Open(device, log);
        try
        {
            Model = HfCheckpoint.Load(runPath, Kernels);
            if (Model.Config.VocabSize < Vocabulary.Size)
            {
                Model.Dispose();
                throw new FormatException($"{runPath}: the model's vocabulary ({Model.Config.VocabSize}) is smaller than vocab.json's ({Vocabulary.Size})");
            }
        }
        catch
        {
            Kernels.Dispose();
            throw;
        }
    }

    /// <summary>The run's profile.</summary>
    public TProfile Profile { get; }

    /// <summary>The run's tokenizer.</summary>
    public BpeVocabulary Vocabulary { get; }

    /// <summary>The backend the model lives on.</summary>
    public IKernels Kernels { get; }

    /// <summary>The trained model.</summary>
    public LlamaModel Model { get; }

    /// <summary>Frees the model, then its backend.</summary>
    public void Dispose()
    {
        Model.Dispose();
        Kernels.Dispose();
    }
}

using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Codec.IO;

namespace JpegLm.Cli.Commands;

/// <summary>
/// How <c>sample</c> writes and reports generated files, images and videos alike: each file written atomically with a
/// line saying whether the checker passes it, then one summary line of valid files and corrupt patches.
/// </summary>
/// <param name="noun">What a file is called in the summary (<c>samples</c>, <c>videos</c>).</param>
/// <param name="unit">What a patch is called (<c>patches</c>, <c>slices</c>).</param>
internal sealed class SampleTally(string noun, string unit)
{
    private int _valid, _total, _corrupt, _units;

    /// <summary>Writes <paramref name="sample"/> to <paramref name="path"/> and prints its line (<paramref name="detail"/>, e.g. its frames, before its size).</summary>
    public void Write(string path, IGeneratedSample sample, TextWriter stdout, string? detail = null)
    {
        AtomicFile.WriteAllBytes(path, sample.File);
        _total++;
        _valid += sample.Valid ? 1 : 0;
        _corrupt += sample.CorruptUnits;
        _units += sample.Units;
        stdout.WriteLine($"{path}: {(sample.Valid ? "valid" : $"CORRUPT ({sample.CorruptUnits}/{sample.Units} {unit})")}, {(detail != null ? detail + ", " : "")}{sample.File.Length} bytes, stopped by {sample.Reason}");
    }

    /// <summary>The summary line: valid files, and the share of corrupt patches.</summary>
    public string Summary(bool unconstrained) => string.Create(CultureInfo.InvariantCulture,
        $"{_valid}/{_total} {noun} valid ({(unconstrained ? "unconstrained" : "grammar-constrained")}); corrupt {unit} {_corrupt}/{_units} ({100.0 * _corrupt / Math.Max(1, _units):F1}%)");
}

using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>
/// What <c>sample</c> and <c>eval</c> count of one generated file, whatever its codec: the file, whether the strict
/// checker passes it, and how many of its patches (JPEG restart intervals, H.264 slices) are corrupt.
/// </summary>
internal interface IGeneratedSample
{
    /// <summary>The complete file (headers and tables included).</summary>
    byte[] File { get; }

    /// <summary>Whether every patch passes the strict checker.</summary>
    bool Valid { get; }

    /// <summary>Patches the checker flags.</summary>
    int CorruptUnits { get; }

    /// <summary>Patches in the file.</summary>
    int Units { get; }

    /// <summary>Why generation stopped.</summary>
    FinishReason Reason { get; }
}

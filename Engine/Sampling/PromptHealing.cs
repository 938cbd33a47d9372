namespace JpegLm.Engine.Sampling;

/// <summary>
/// Token healing for prompts cut inside a tokenized stream. BPE merges can span the cut — the Fashion-MNIST
/// vocabulary merges a restart marker with the empty patch after it (<c>FF D6 E7 EB</c>) — so a prompt that ends
/// exactly at a patch boundary is tokenized in a way the model never saw in training, and its first new tokens
/// suffer. The prompt's last tokens are taken back and their bytes forced: the first new tokens must spell them
/// (a token may run past them), which lets the model pick the merged tokens it knows.
/// </summary>
public static class PromptHealing
{
    /// <summary>How many trailing bytes of a prompt are re-generated (whole tokens, at least one token).</summary>
    public const int HealedBytes = 8;

    /// <summary>
    /// Splits an encoded prompt into the tokens kept and the bytes to force: tokens are taken back from the end until
    /// at least <paramref name="minimumBytes"/> bytes are (or none are left).
    /// </summary>
    public static (int Keep, byte[] Forced) Split(IReadOnlyList<int> tokens, Func<int, byte[]> tokenBytes, int minimumBytes = HealedBytes)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(tokenBytes);
        int keep = tokens.Count;
        var forced = new List<byte>();
        while (keep > 0 && (forced.Count < minimumBytes || keep == tokens.Count))
        {
            keep--;
            forced.InsertRange(0, tokenBytes(tokens[keep]));
        }

        return (keep, [.. forced]);
    }
}

/// <summary>
/// Restricts the first new tokens to those that spell the forced bytes (a token may be a prefix of what is left, or
/// start with all of it and run on), then defers to an inner constraint, which sees every token as usual. EOS and
/// specials are refused until the forced bytes are spelled.
/// </summary>
public sealed class ForcedBytesConstraint(ITokenConstraint? inner, byte[] forced, IReadOnlyList<byte[]> tokenBytes) : ITokenConstraint
{
    private readonly byte[] _forced = forced ?? throw new ArgumentNullException(nameof(forced));
    private readonly IReadOnlyList<byte[]> _tokenBytes = tokenBytes ?? throw new ArgumentNullException(nameof(tokenBytes));
    private int _spelled;

    /// <inheritdoc/>
    public void FillAllowed(Span<bool> allowed, int tokensLeft)
    {
        inner?.FillAllowed(allowed, tokensLeft);
        if (_spelled >= _forced.Length)
        {
            return;
        }

        ReadOnlySpan<byte> left = _forced.AsSpan(_spelled);
        for (int id = 0; id < allowed.Length; id++)
        {
            if (!allowed[id])
            {
                continue;
            }

            byte[] bytes = id < _tokenBytes.Count ? _tokenBytes[id] : [];
            int n = Math.Min(bytes.Length, left.Length);
            allowed[id] = n > 0 && bytes.AsSpan(0, n).SequenceEqual(left[..n]);
        }
    }

    /// <inheritdoc/>
    public void Accept(int token)
    {
        inner?.Accept(token);
        if (_spelled < _forced.Length && token < _tokenBytes.Count)
        {
            _spelled += _tokenBytes[token].Length;
        }
    }
}

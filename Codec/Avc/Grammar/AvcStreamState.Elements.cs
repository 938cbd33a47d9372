namespace JpegLm.Codec.Avc.Grammar;

/// <summary>
/// The bit level of <see cref="AvcStreamState"/>: one syntax element at a time, each with the set of values the
/// syntax allows there, checked after every bit so that a prefix is accepted iff some completion of the element
/// is allowed: ue(v)/se(v) as code number intervals (leading zeros, then info bits, narrow the interval), fixed
/// bits likewise, CAVLC codes as trie walks, level_prefix by its count of zeros (≤ 15 in Baseline) and the
/// alignment after the stop bit as zeros up to the byte boundary. <see cref="CanonicalBit"/> gives the next bit
/// of the element's shortest allowed code, the step of the canonical completion.
/// </summary>
public partial struct AvcStreamState
{
    private const byte Ue = 1, Se = 2, Bits = 3, Trie = 4, LevelPrefix = 5, Align = 6;


    private void ExpectUe(byte phase, int lo, int hi, ulong mask = 0) => Expect(phase, Ue, lo, hi, mask);

    private void ExpectSe(byte phase, int lo, int hi) => Expect(phase, Se, lo, hi, 0);

    private void ExpectBits(byte phase, int n, int lo, int hi, ulong mask = 0)
    {
        Expect(phase, Bits, lo, hi, mask);
        _n = (byte)n;
    }

    private void ExpectTrie(byte phase, byte trie, int limit)
    {
        Expect(phase, Trie, 0, 0, 0);
        _trie = trie;
        _limit = limit;
    }

    private void Expect(byte phase, byte kind, int lo, int hi, ulong mask)
    {
        _sp = phase;
        _ek = kind;
        _lo = lo;
        _hi = hi;
        _mask = mask;
        _z = _k = 0;
        _inInfo = false;
        _acc = 0;
        _node = 0;
    }

    private readonly AvcCodeTrie CurrentTrie => _trie switch
    {
        < 10 => AvcCodeTrie.CoeffToken[_trie],
        < 30 => AvcCodeTrie.TotalZeros[_trie - 10],
        < 40 => AvcCodeTrie.ChromaDcTotalZeros[_trie - 30],
        _ => AvcCodeTrie.RunBefore[_trie - 40],
    };

    // One RBSP bit of the slice; false when no allowed value of the element starts with the bits so far.
    private bool StepBit(int bit)
    {
        _bit = (byte)((_bit + 1) & 7);
        switch (_ek)
        {
            case Ue or Se:
                if (!_inInfo)
                {
                    if (bit == 0)
                    {
                        _z++;
                        return _z <= 30 && AnyCode((1L << _z) - 1, long.MaxValue);
                    }

                    if (_z == 0)
                    {
                        return AnyCode(0, 0) && Complete(0);
                    }

                    _inInfo = true;
                    return AnyCode((1L << _z) - 1, (2L << _z) - 2);
                }

                _acc = (_acc << 1) | bit;
                _k++;
                long first = (1L << _z) - 1 + ((long)_acc << (_z - _k));
                if (!AnyCode(first, first + (1L << (_z - _k)) - 1))
                {
                    return false;
                }

                return _k < _z || Complete((int)first);
            case Bits:
                _acc = (_acc << 1) | bit;
                _k++;
                long from = (long)_acc << (_n - _k);
                if (!AnyCode(from, from + (1L << (_n - _k)) - 1))
                {
                    return false;
                }

                return _k < _n || Complete(_acc);
            case Trie:
                AvcCodeTrie trie = CurrentTrie;
                int c = trie.Child[(2 * _node) + bit];
                if (c >= 0)
                {
                    _node = c;
                    return trie.MinKey[c] <= _limit;
                }

                return c != AvcCodeTrie.Dead && trie.KeyOf[-c - 1] <= _limit && Complete(-c - 1);
            case LevelPrefix:
                if (bit == 0)
                {
                    return ++_z <= 15;
                }

                return Complete(_z);
            case Align:
                return bit == 0 && (_bit != 0 || Complete(0));
            default:
                return false; // after the slice's last bit
        }
    }

    // The next bit of the shortest allowed completion of the element (ties to the smaller value); -1 if none.
    private readonly int CanonicalBit()
    {
        switch (_ek)
        {
            case Ue or Se:
            {
                if (!_inInfo)
                {
                    long code = SmallestCode((1L << _z) - 1, long.MaxValue);
                    if (code < 0)
                    {
                        return -1;
                    }

                    // Zeros while the smallest code is longer than the prefix says, then its 1.
                    return code >= (2L << _z) - 1 ? 0 : 1;
                }

                long first = (1L << _z) - 1 + ((long)_acc << (_z - _k));
                long best = SmallestCode(first, first + (1L << (_z - _k)) - 1);
                return best < 0 ? -1 : (int)(((best - ((1L << _z) - 1)) >> (_z - _k - 1)) & 1);
            }

            case Bits:
            {
                long from = (long)_acc << (_n - _k);
                long best = SmallestCode(from, from + (1L << (_n - _k)) - 1);
                return best < 0 ? -1 : (int)((best >> (_n - _k - 1)) & 1);
            }

            case Trie:
                return CurrentTrie.CanonicalBit(_node, _limit);
            case LevelPrefix:
                return 1;
            case Align:
                return 0;
            default:
                return -1;
        }
    }

    // Whether some allowed code (ue/se: code number; bits: value) lies in [a, b].
    private readonly bool AnyCode(long a, long b) => SmallestCode(a, b) >= 0;

    // The smallest allowed code in [a, b], or -1.
    private readonly long SmallestCode(long a, long b)
    {
        if (a > b)
        {
            return -1;
        }

        if (_ek == Se)
        {
            // se(v): code k is the value (k + 1) / 2 when odd, -k / 2 when even (9.1.1).
            long oddLo = (2L * Math.Max(1, _lo)) - 1, oddHi = (2L * _hi) - 1;
            long evenLo = -2L * Math.Min(0, _hi), evenHi = -2L * _lo;
            long odd = Math.Max(a, oddLo), even = Math.Max(a, evenLo);
            odd += (odd & 1) == 0 ? 1 : 0;
            even += (even & 1) != 0 ? 1 : 0;
            bool oddOk = _hi >= 1 && odd <= Math.Min(b, oddHi);
            bool evenOk = _lo <= 0 && even <= Math.Min(b, evenHi);
            return oddOk && evenOk ? Math.Min(odd, even) : oddOk ? odd : evenOk ? even : -1;
        }

        long lo = Math.Max(a, _lo), hi = Math.Min(b, _hi);
        if (lo > hi)
        {
            return -1;
        }

        if (_mask == 0)
        {
            return lo;
        }

        if (lo > 63)
        {
            return -1;
        }

        ulong m = _mask >> (int)lo;
        if (m == 0)
        {
            return -1;
        }

        long v = lo + System.Numerics.BitOperations.TrailingZeroCount(m);
        return v <= hi ? v : -1;
    }

    // An element finished with code (or value) v: hand it to the syntax, which sets up the next element.
    private bool Complete(int v)
    {
        if (_ek == Se)
        {
            v = (v & 1) != 0 ? (v + 1) / 2 : -(v / 2);
        }

        OnElement(v);
        return true;
    }
}

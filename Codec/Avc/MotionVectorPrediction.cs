using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Luma motion vector prediction (clause 8.4.1.3) and P_Skip motion (8.4.1.1). Neighbouring
/// partitions (6.4.11.7) come from <see cref="PictureState"/> for other macroblocks and from the
/// partially filled current macroblock for its own, earlier partitions.
/// </summary>
internal sealed class MotionVectorPrediction
{
    private readonly PictureState _state;

    public MotionVectorPrediction(PictureState state) => _state = state;

    /// <summary>Current macroblock's motion per 4x4 raster block (x, y).</summary>
    public int[] CurrentMv { get; } = new int[32];

    /// <summary>Current macroblock's ref_idx per 8x8.</summary>
    public int[] CurrentRef { get; } = new int[4];

    /// <summary>Which 4x4 blocks of the current macroblock already have motion.</summary>
    public int Assigned { get; set; }

    public int Address { get; set; }

    public int SliceId { get; set; }

    // Motion of the partition covering luma location (xN, yN) relative to the current macroblock.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (bool Available, int Ref, int Mvx, int Mvy) Neighbour(int xN, int yN)
    {
        if (xN >= 0 && xN < 16 && yN >= 0 && yN < 16)
        {
            int blk = (xN >> 2) + ((yN >> 2) * 4);
            if ((Assigned & (1 << blk)) == 0)
            {
                return (false, -1, 0, 0);
            }

            return (true, CurrentRef[((yN >> 3) * 2) + (xN >> 3)], CurrentMv[2 * blk], CurrentMv[(2 * blk) + 1]);
        }

        int w = _state.WidthInMbs;
        int mbx = Address % w, mby = Address / w;
        int nx, ny;
        if (yN < 0)
        {
            ny = mby - 1;
            nx = xN < 0 ? mbx - 1 : xN < 16 ? mbx : mbx + 1;
        }
        else if (yN < 16 && xN < 0)
        {
            ny = mby;
            nx = mbx - 1;
        }
        else
        {
            return (false, -1, 0, 0);
        }

        if (nx < 0 || ny < 0 || nx >= w)
        {
            return (false, -1, 0, 0);
        }

        int n = (ny * w) + nx;
        if (!_state.Available(n, SliceId))
        {
            return (false, -1, 0, 0);
        }

        int xW = xN & 15, yW = yN & 15;
        int b = (xW >> 2) + ((yW >> 2) * 4);
        int r = _state.RefIdx[(n * 4) + ((yW >> 3) * 2) + (xW >> 3)];
        return (true, r, _state.Mv[(n * 32) + (2 * b)], _state.Mv[(n * 32) + (2 * b) + 1]);
    }

    /// <summary>mvpLX for the partition at (x, y) of size w x h with reference index <paramref name="refIdx"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (int X, int Y) Predict(int x, int y, int w, int h, int refIdx)
    {
        var a = Neighbour(x - 1, y);
        var b = Neighbour(x, y - 1);
        var c = Neighbour(x + w, y - 1);
        if (!c.Available)
        {
            c = Neighbour(x - 1, y - 1);
        }

        if (w == 16 && h == 8)
        {
            if (y == 0 && b.Ref == refIdx)
            {
                return (b.Mvx, b.Mvy);
            }

            if (y == 8 && a.Ref == refIdx)
            {
                return (a.Mvx, a.Mvy);
            }
        }
        else if (w == 8 && h == 16)
        {
            if (x == 0 && a.Ref == refIdx)
            {
                return (a.Mvx, a.Mvy);
            }

            if (x == 8 && c.Ref == refIdx)
            {
                return (c.Mvx, c.Mvy);
            }
        }

        if (!b.Available && !c.Available && a.Available)
        {
            b = a;
            c = a;
        }

        int matches = (a.Ref == refIdx ? 1 : 0) + (b.Ref == refIdx ? 1 : 0) + (c.Ref == refIdx ? 1 : 0);
        if (matches == 1)
        {
            return a.Ref == refIdx ? (a.Mvx, a.Mvy) : b.Ref == refIdx ? (b.Mvx, b.Mvy) : (c.Mvx, c.Mvy);
        }

        return (Median(a.Mvx, b.Mvx, c.Mvx), Median(a.Mvy, b.Mvy, c.Mvy));
    }

    /// <summary>The P_Skip motion vector (8.4.1.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (int X, int Y) PredictSkip()
    {
        var a = Neighbour(-1, 0);
        var b = Neighbour(0, -1);
        if (!a.Available || !b.Available || (a.Ref == 0 && a.Mvx == 0 && a.Mvy == 0) || (b.Ref == 0 && b.Mvx == 0 && b.Mvy == 0))
        {
            return (0, 0);
        }

        return Predict(0, 0, 16, 16, 0);
    }

    /// <summary>Records motion for the 4x4 blocks of a partition of the current macroblock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Assign(int x, int y, int w, int h, int refIdx, int mvx, int mvy)
    {
        for (int by = y >> 2; by < (y + h) >> 2; by++)
        {
            for (int bx = x >> 2; bx < (x + w) >> 2; bx++)
            {
                int blk = bx + (by * 4);
                CurrentMv[2 * blk] = mvx;
                CurrentMv[(2 * blk) + 1] = mvy;
                Assigned |= 1 << blk;
            }
        }

        CurrentRef[((y >> 3) * 2) + (x >> 3)] = refIdx;
        if (w == 16 || h == 16)
        {
            for (int i = 0; i < 4; i++)
            {
                int bx8 = i & 1, by8 = i >> 1;
                if (bx8 * 8 >= x && bx8 * 8 < x + w && by8 * 8 >= y && by8 * 8 < y + h)
                {
                    CurrentRef[i] = refIdx;
                }
            }
        }
    }

    private static int Median(int a, int b, int c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
}

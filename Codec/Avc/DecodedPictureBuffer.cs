using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// The decoded picture buffer for frames: reference marking (sliding window and adaptive memory
/// control, clause 8.2.5), reference list initialisation and modification for P slices (8.2.4),
/// frame_num gap filling (8.2.5.2) and output in picture order count order with bumping (C.4.5.3).
/// </summary>
internal sealed class DecodedPictureBuffer
{
    private readonly List<DecodedPicture> _refs = [];
    private readonly List<DecodedPicture> _waiting = [];
    private readonly Stack<DecodedPicture> _pool = new();
    private readonly List<DecodedPicture> _initial = [];
    private int _maxLongTermFrameIdx = -1;
    private int _nextId;

    /// <summary>Frames held back for reordering before the smallest POC is output.</summary>
    public int ReorderDepth { get; set; } = 16;

    /// <summary>Reference frames allowed (max_num_ref_frames, at least 1).</summary>
    public int MaxRefFrames { get; set; } = 1;

    /// <summary>Frames ready for output, oldest first.</summary>
    public Queue<DecodedPicture> Output { get; } = new();

    /// <summary>A frame buffer for a new picture (recycled when possible).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public DecodedPicture Allocate(int width, int height)
    {
        DecodedPicture pic = _pool.Count > 0 && _pool.Peek().Width == width && _pool.Peek().Height == height ? _pool.Pop() : new DecodedPicture(width, height);
        pic.Id = ++_nextId;
        pic.IsShortTerm = pic.IsLongTerm = pic.NeededForOutput = pic.NonExisting = false;
        return pic;
    }

    /// <summary>Returns a frame that has been handed out through <see cref="Output"/> and is no longer needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Recycle(DecodedPicture pic)
    {
        if (!pic.IsReference && !pic.NeededForOutput && _pool.Count < 4 && !_pool.Contains(pic))
        {
            _pool.Push(pic);
        }
    }

    /// <summary>Drops everything (a new sequence with another size).</summary>
    public void Clear()
    {
        _refs.Clear();
        _pool.Clear();
        _maxLongTermFrameIdx = -1;
    }

    /// <summary>Outputs every waiting frame in POC order.</summary>
    public void Flush()
    {
        while (_waiting.Count > 0)
        {
            OutputSmallest();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OutputSmallest()
    {
        int best = 0;
        for (int i = 1; i < _waiting.Count; i++)
        {
            if (_waiting[i].Poc < _waiting[best].Poc)
            {
                best = i;
            }
        }

        DecodedPicture pic = _waiting[best];
        _waiting.RemoveAt(best);
        pic.NeededForOutput = false;
        Output.Enqueue(pic);
    }

    /// <summary>Queues a decoded frame for output, bumping the smallest POC when too many wait.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddForOutput(DecodedPicture pic)
    {
        pic.NeededForOutput = true;
        _waiting.Add(pic);
        while (_waiting.Count > ReorderDepth)
        {
            OutputSmallest();
        }
    }

    /// <summary>Fills a gap in frame_num with non-existing short-term frames (8.2.5.2).</summary>
    public void FillFrameNumGap(int prevRefFrameNum, int frameNum, int maxFrameNum, DecodedPicture? like, int width, int height)
    {
        int missing = (prevRefFrameNum + 1) % maxFrameNum;
        int gap = ((frameNum - missing) % maxFrameNum + maxFrameNum) % maxFrameNum;

        // Only the last MaxRefFrames inferred frames can survive the sliding window, so a huge gap
        // (a corrupt frame_num) costs no more than a small one.
        int keep = Math.Max(MaxRefFrames, 1);
        if (gap > keep)
        {
            foreach (DecodedPicture p in _refs.Where(p => p.IsShortTerm).ToList())
            {
                Unmark(p);
            }

            missing = (missing + gap - keep) % maxFrameNum;
        }

        if (like != null && (like.Width != width || like.Height != height))
        {
            like = null; // a picture of another size cannot stand in for this one's references
        }

        int guard = 0;
        while (missing != frameNum && guard++ < maxFrameNum)
        {
            DecodedPicture pic = Allocate(width, height);
            if (like != null)
            {
                like.Y.AsSpan().CopyTo(pic.Y);
                like.U.AsSpan().CopyTo(pic.U);
                like.V.AsSpan().CopyTo(pic.V);
            }

            pic.FrameNum = missing;
            pic.NonExisting = true;
            SlidingWindow(missing, maxFrameNum);
            pic.IsShortTerm = true;
            _refs.Add(pic);
            missing = (missing + 1) % maxFrameNum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void UpdateWrap(int currFrameNum, int maxFrameNum)
    {
        foreach (DecodedPicture p in _refs)
        {
            p.FrameNumWrap = p.FrameNum > currFrameNum ? p.FrameNum - maxFrameNum : p.FrameNum;
        }
    }

    /// <summary>RefPicList0 for a P slice (8.2.4.2.1 then 8.2.4.3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public DecodedPicture?[] BuildList(SliceHeader h, int maxFrameNum)
    {
        UpdateWrap(h.FrameNum, maxFrameNum);

        // Short-term frames by descending FrameNumWrap, then long-term ones by ascending LongTermFrameIdx
        // (stable insertion: this runs for every slice, so no sorting machinery or allocation).
        List<DecodedPicture> init = _initial;
        init.Clear();
        foreach (DecodedPicture p in _refs)
        {
            if (p.IsShortTerm)
            {
                int at = init.Count;
                while (at > 0 && init[at - 1].FrameNumWrap < p.FrameNumWrap)
                {
                    at--;
                }

                init.Insert(at, p);
            }
        }

        int shortCount = init.Count;
        foreach (DecodedPicture p in _refs)
        {
            if (p.IsLongTerm)
            {
                int at = init.Count;
                while (at > shortCount && init[at - 1].LongTermFrameIdx > p.LongTermFrameIdx)
                {
                    at--;
                }

                init.Insert(at, p);
            }
        }

        int n = h.NumRefIdxL0Active;
        var list = new DecodedPicture?[n + 1];
        for (int i = 0; i < n && i < init.Count; i++)
        {
            list[i] = init[i];
        }

        int picNumPred = h.FrameNum;
        int refIdx = 0;
        foreach (RefPicListModification m in h.RefPicListModifications)
        {
            DecodedPicture? pic;
            if (m.Idc < 2)
            {
                int abs = m.Value + 1;
                int noWrap = m.Idc == 0 ? picNumPred - abs : picNumPred + abs;
                if (noWrap < 0)
                {
                    noWrap += maxFrameNum;
                }
                else if (noWrap >= maxFrameNum)
                {
                    noWrap -= maxFrameNum;
                }

                picNumPred = noWrap;
                int picNum = noWrap > h.FrameNum ? noWrap - maxFrameNum : noWrap;
                pic = _refs.Find(p => p.IsShortTerm && p.FrameNumWrap == picNum)
                    ?? throw new AvcFormatException($"reference list modification names missing short-term picture {picNum}", -1);
            }
            else
            {
                pic = _refs.Find(p => p.IsLongTerm && p.LongTermFrameIdx == m.Value)
                    ?? throw new AvcFormatException($"reference list modification names missing long-term picture {m.Value}", -1);
            }

            if (refIdx >= n)
            {
                throw new AvcFormatException("too many reference list modifications", -1);
            }

            for (int c = n; c > refIdx; c--)
            {
                list[c] = list[c - 1];
            }

            list[refIdx++] = pic;
            int nIdx = refIdx;
            for (int c = refIdx; c <= n; c++)
            {
                if (!ReferenceEquals(list[c], pic))
                {
                    list[nIdx++] = list[c];
                }
            }

            for (; nIdx <= n; nIdx++)
            {
                list[nIdx] = null;
            }
        }

        Array.Resize(ref list, n);
        return list;
    }

    /// <summary>Marks references after decoding the current picture (8.2.5.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MarkAfterDecoding(SliceHeader h, DecodedPicture current, int maxFrameNum)
    {
        if (h.NalRefIdc == 0)
        {
            return;
        }

        bool currentLong = false;
        if (h.IsIdr)
        {
            foreach (DecodedPicture p in _refs)
            {
                p.IsShortTerm = p.IsLongTerm = false;
            }

            _refs.Clear();
            if (h.LongTermReference)
            {
                current.IsLongTerm = true;
                current.LongTermFrameIdx = 0;
                _maxLongTermFrameIdx = 0;
                currentLong = true;
            }
            else
            {
                _maxLongTermFrameIdx = -1;
            }
        }
        else if (h.AdaptiveRefPicMarking)
        {
            UpdateWrap(h.FrameNum, maxFrameNum);
            foreach (MemoryManagementOperation op in h.MemoryManagementOperations)
            {
                switch (op.Op)
                {
                    case 1:
                        {
                            int picNumX = h.FrameNum - op.DifferenceOfPicNums;
                            Unmark(_refs.Find(p => p.IsShortTerm && p.FrameNumWrap == picNumX));
                            break;
                        }

                    case 2:
                        Unmark(_refs.Find(p => p.IsLongTerm && p.LongTermFrameIdx == op.LongTermPicNum));
                        break;
                    case 3:
                        {
                            int picNumX = h.FrameNum - op.DifferenceOfPicNums;
                            DecodedPicture? pic = _refs.Find(p => p.IsShortTerm && p.FrameNumWrap == picNumX);
                            DecodedPicture? holder = _refs.Find(p => p.IsLongTerm && p.LongTermFrameIdx == op.LongTermFrameIdx);
                            if (holder != null && !ReferenceEquals(holder, pic))
                            {
                                Unmark(holder);
                            }

                            if (pic != null)
                            {
                                pic.IsShortTerm = false;
                                pic.IsLongTerm = true;
                                pic.LongTermFrameIdx = op.LongTermFrameIdx;
                            }

                            break;
                        }

                    case 4:
                        _maxLongTermFrameIdx = op.MaxLongTermFrameIdxPlus1 - 1;
                        foreach (DecodedPicture p in _refs.Where(p => p.IsLongTerm && p.LongTermFrameIdx > _maxLongTermFrameIdx).ToList())
                        {
                            Unmark(p);
                        }

                        break;
                    case 5:
                        foreach (DecodedPicture p in _refs.ToList())
                        {
                            Unmark(p);
                        }

                        _maxLongTermFrameIdx = -1;
                        break;
                    case 6:
                        {
                            DecodedPicture? holder = _refs.Find(p => p.IsLongTerm && p.LongTermFrameIdx == op.LongTermFrameIdx);
                            if (holder != null)
                            {
                                Unmark(holder);
                            }

                            current.IsLongTerm = true;
                            current.LongTermFrameIdx = op.LongTermFrameIdx;
                            currentLong = true;
                            break;
                        }

                    default:
                        break;
                }
            }
        }
        else
        {
            SlidingWindow(h.FrameNum, maxFrameNum);
        }

        if (!currentLong)
        {
            current.IsShortTerm = true;
        }

        current.FrameNum = h.HasMmco5 ? 0 : h.FrameNum;
        _refs.Add(current);

        // A stream that keeps more references than allowed loses the oldest short-term ones.
        while (_refs.Count > Math.Max(MaxRefFrames, 1) && _refs.Exists(p => p.IsShortTerm && !ReferenceEquals(p, current)))
        {
            UpdateWrap(current.FrameNum, maxFrameNum);
            Unmark(_refs.Where(p => p.IsShortTerm && !ReferenceEquals(p, current)).MinBy(p => p.FrameNumWrap));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SlidingWindow(int currFrameNum, int maxFrameNum)
    {
        UpdateWrap(currFrameNum, maxFrameNum);
        while (_refs.Count >= Math.Max(MaxRefFrames, 1) && _refs.Exists(p => p.IsShortTerm))
        {
            Unmark(_refs.Where(p => p.IsShortTerm).MinBy(p => p.FrameNumWrap));
        }
    }

    private void Unmark(DecodedPicture? p)
    {
        if (p == null)
        {
            return;
        }

        p.IsShortTerm = p.IsLongTerm = false;
        _refs.Remove(p);
    }

    /// <summary>The reference frames currently held.</summary>
    public IReadOnlyList<DecodedPicture> References => _refs;
}

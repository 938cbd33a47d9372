namespace JpegLm.Codec.Tokens;

/// <summary>What training did: the vocabulary and the corpus size before and after.</summary>
/// <param name="Vocabulary">The learned vocabulary.</param>
/// <param name="Bytes">Bytes in the training corpus.</param>
/// <param name="Tokens">Tokens the corpus has after all merges (excluding specials).</param>
public sealed record BpeTrainingResult(BpeVocabulary Vocabulary, long Bytes, long Tokens);

/// <summary>
/// Learns byte-level BPE merges. Incremental: every position of the corpus sits in a linked list and
/// in the occurrence list of its pair; a merge visits only the occurrences of its own pair, updates
/// the counts of the neighbouring pairs, and the next merge comes from a max-priority queue with lazy
/// invalidation, so no merge rescans the corpus. Ties go to the smaller (left, right) pair. Within a
/// merge, overlapping occurrences (a, a) are merged left to right, exactly as <see cref="BpeEncoder"/>
/// applies them, so encoding the training corpus reproduces the training result.
/// </summary>
public static class BpeTrainer
{
    /// <summary>The largest vocabulary the pair-count table supports.</summary>
    public const int MaxVocabularySize = 8192;

    /// <summary>Learns merges until the vocabulary has <paramref name="vocabularySize"/> ids or no pair occurs twice.</summary>
    /// <param name="documents">Training streams; pairs never span two documents.</param>
    /// <param name="vocabularySize">Target size including the 256 bytes and 3 specials.</param>
    public static BpeTrainingResult Train(IReadOnlyList<byte[]> documents, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, BpeVocabulary.FirstMerge);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vocabularySize, MaxVocabularySize);
        long total = documents.Sum(d => (long)d.Length);
        if (total > int.MaxValue / 2)
        {
            throw new ArgumentException("training corpus above 1 GiB; train on a sample", nameof(documents));
        }

        int n = (int)total, v = vocabularySize;
        var tok = new int[n];
        var next = new int[n];
        var prev = new int[n];
        int at = 0;
        foreach (byte[] d in documents)
        {
            for (int i = 0; i < d.Length; i++)
            {
                tok[at + i] = d[i];
                prev[at + i] = i == 0 ? -1 : at + i - 1;
                next[at + i] = i == d.Length - 1 ? -1 : at + i + 1;
            }

            at += d.Length;
        }

        var counts = new int[v * v];
        var lists = new int[v * v][];
        var listLength = new int[v * v];
        for (int p = 0; p < n; p++)
        {
            if (next[p] >= 0)
            {
                counts[(tok[p] * v) + tok[p + 1]]++;
            }
        }

        for (int key = 0; key < counts.Length; key++)
        {
            if (counts[key] > 0)
            {
                lists[key] = new int[counts[key]];
            }
        }

        for (int p = 0; p < n; p++)
        {
            if (next[p] >= 0)
            {
                int key = (tok[p] * v) + tok[p + 1];
                lists[key][listLength[key]++] = p;
            }
        }

        var queue = new PriorityQueue<int, long>();
        for (int key = 0; key < counts.Length; key++)
        {
            if (counts[key] > 0)
            {
                queue.Enqueue(key, Priority(key, counts[key]));
            }
        }

        var merges = new List<(int, int)>();
        var changed = new List<int>();
        var stamp = new int[v * v];
        long tokens = n;
        while (BpeVocabulary.FirstMerge + merges.Count < v)
        {
            int best = -1;
            while (queue.TryDequeue(out int key, out long priority))
            {
                if (counts[key] >= 2 && Priority(key, counts[key]) == priority)
                {
                    best = key;
                    break;
                }
            }

            if (best < 0)
            {
                break;
            }

            int a = best / v, b = best % v, id = BpeVocabulary.FirstMerge + merges.Count;
            merges.Add((a, b));
            int mark = merges.Count;
            int[] occurrences = lists[best];
            int count = listLength[best];
            lists[best] = [];
            listLength[best] = 0;
            if (a == b)
            {
                Array.Sort(occurrences, 0, count); // overlapping runs merge left to right
            }

            for (int o = 0; o < count; o++)
            {
                int p = occurrences[o];
                int q = next[p];
                if (tok[p] != a || q < 0 || tok[q] != b)
                {
                    continue; // stale: this occurrence was consumed by an earlier merge
                }

                int x = prev[p], y = next[q];
                if (x >= 0)
                {
                    Bump(tok[x] * v + a, -1);
                }

                Bump(best, -1);
                if (y >= 0)
                {
                    Bump((b * v) + tok[y], -1);
                }

                tok[p] = id;
                tok[q] = -1;
                next[p] = y;
                if (y >= 0)
                {
                    prev[y] = p;
                }

                tokens--;
                if (x >= 0)
                {
                    Add((tok[x] * v) + id, x);
                }

                if (y >= 0)
                {
                    Add((id * v) + tok[y], p);
                }
            }

            foreach (int key in changed)
            {
                if (counts[key] > 0)
                {
                    queue.Enqueue(key, Priority(key, counts[key]));
                }
            }

            changed.Clear();

            void Bump(int key, int delta)
            {
                counts[key] += delta;
                if (stamp[key] != mark)
                {
                    stamp[key] = mark;
                    changed.Add(key);
                }
            }

            void Add(int key, int position)
            {
                Bump(key, 1);
                int[]? list = lists[key];
                if (list == null || listLength[key] == list.Length)
                {
                    Array.Resize(ref list, Math.Max(8, listLength[key] * 2));
                    lists[key] = list;
                }

                list[listLength[key]++] = position;
            }
        }

        return new BpeTrainingResult(new BpeVocabulary(merges), n, tokens);
    }

    /// <summary>Min-heap priority: higher count first, then the smaller pair key.</summary>
    private static long Priority(int key, int count) => ((long)(int.MaxValue - count) << 32) | (uint)key;
}

namespace JpegLm.Codec.Tokens;

/// <summary>
/// The class labels of a prepared data set (Fashion-MNIST's), one byte per document of the shard they sit
/// beside: <c>train.labels</c> for <c>train.tok</c>, <c>val.labels</c> for <c>val.tok</c>. Written by
/// <see cref="DatasetPreparer"/>; read by the sample-quality measure (classifier training, per-class prompts).
/// </summary>
public static class DatasetLabels
{
    /// <summary>Labels of the training shard's documents.</summary>
    public const string TrainFile = "train.labels";

    /// <summary>Labels of the validation shard's documents (Fashion-MNIST: the <c>t10k</c> test set in order).</summary>
    public const string ValidationFile = "val.labels";

    /// <summary>Reads a labels file, checking it has one label per document of its shard.</summary>
    /// <exception cref="TokenFormatException">Missing labels, or a count that differs from the shard's.</exception>
    public static byte[] Read(string dataDirectory, bool validation, long documents)
    {
        string path = Path.Combine(dataDirectory, validation ? ValidationFile : TrainFile);
        if (!File.Exists(path))
        {
            throw new TokenFormatException($"{path}: no labels (prepare a labelled data set such as Fashion-MNIST's IDX folder)");
        }

        byte[] labels = File.ReadAllBytes(path);
        if (labels.Length != documents)
        {
            throw new TokenFormatException($"{path}: {labels.Length} labels for {documents} documents");
        }

        return labels;
    }
}

namespace JpegLm.Codec.Avc;

/// <summary>nal_unit_type values used by the baseline decoder (Table 7-1).</summary>
public enum NalUnitType
{
    /// <summary>Unspecified.</summary>
    Unspecified = 0,

    /// <summary>Coded slice of a non-IDR picture.</summary>
    Slice = 1,

    /// <summary>Coded slice data partition A (extended profile; rejected).</summary>
    SliceDataPartitionA = 2,

    /// <summary>Coded slice data partition B (extended profile; rejected).</summary>
    SliceDataPartitionB = 3,

    /// <summary>Coded slice data partition C (extended profile; rejected).</summary>
    SliceDataPartitionC = 4,

    /// <summary>Coded slice of an IDR picture.</summary>
    IdrSlice = 5,

    /// <summary>Supplemental enhancement information (skipped).</summary>
    Sei = 6,

    /// <summary>Sequence parameter set.</summary>
    Sps = 7,

    /// <summary>Picture parameter set.</summary>
    Pps = 8,

    /// <summary>Access unit delimiter (skipped).</summary>
    AccessUnitDelimiter = 9,

    /// <summary>End of sequence.</summary>
    EndOfSequence = 10,

    /// <summary>End of stream.</summary>
    EndOfStream = 11,

    /// <summary>Filler data (skipped).</summary>
    Filler = 12,
}

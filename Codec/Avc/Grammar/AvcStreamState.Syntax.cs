namespace JpegLm.Codec.Avc.Grammar;

/// <summary>
/// The syntax of one slice NAL unit of the profile (clauses 7.3.3, 7.3.4, 7.3.5 with CAVLC, one macroblock):
/// which element comes next and which values it may take, given what was read.
/// </summary>
public partial struct AvcStreamState
{
    // Syntax positions.
    private const byte FirstMb = 1, SliceType = 2, PpsId = 3, FrameNumber = 4, IdrPicId = 5, Override = 6, NumRef = 7, RefMod = 8,
        NoOutput = 9, LongTerm = 10, Adaptive = 11, SliceQpDelta = 12, Deblock = 13, Alpha = 14, Beta = 15,
        SkipRun = 20, MbType = 21, PrevModeFlag = 22, RemMode = 23, ChromaMode = 24, Cbp = 25, RefIdx = 26, MvdX = 27, MvdY = 28, QpDelta = 29,
        CoeffToken = 30, Sign = 31, Prefix = 32, Suffix = 33, TotalZeros = 34, RunBefore = 35, StopBit = 40, Alignment = 41, Done = 42;

    private const byte KindI4 = 1, KindI16 = 2, KindP16 = 3;

    private static readonly ulong IntraMbTypes = I16DcTypes() | 1; // I slice numbering: I_NxN and DC-predicted I_16x16


    private readonly bool SliceDone => _sp == Done;

    // After the NAL header byte: the slice header's first element.
    private void BeginSlice()
    {
        _intra = _picture == 0;
        _bit = 0;
        _totals = default;
        _modes = 0;
        ExpectUe(FirstMb, _mb, _mb);
    }

    private void OnElement(int v)
    {
        switch (_sp)
        {
            case FirstMb:
                ExpectUe(SliceType, _intra ? 7 : 5, _intra ? 7 : 5); // every slice of the picture has this type
                break;
            case SliceType:
                ExpectUe(PpsId, 0, 0);
                break;
            case PpsId:
                int frameNum = _g.FrameNum(_picture);
                ExpectBits(FrameNumber, _g.Log2MaxFrameNum, frameNum, frameNum);
                break;
            case FrameNumber:
                if (_intra)
                {
                    ExpectUe(IdrPicId, 0, 0);
                }
                else
                {
                    // The default reference count may exceed the references that exist; then it must be overridden.
                    int available = _g.AvailableRefs(_picture);
                    ExpectBits(Override, 1, _g.DefaultActiveRefs > available ? 1 : 0, 1);
                }

                break;
            case IdrPicId:
                ExpectBits(NoOutput, 1, 0, 0);
                break;
            case Override:
                if (v == 1)
                {
                    ExpectUe(NumRef, 0, Math.Min(_g.AvailableRefs(_picture), 16) - 1);
                    break;
                }

                _active = _g.DefaultActiveRefs;
                ExpectBits(RefMod, 1, 0, 0);
                break;
            case NumRef:
                _active = v + 1;
                ExpectBits(RefMod, 1, 0, 0);
                break;
            case RefMod:
                ExpectBits(Adaptive, 1, 0, 0);
                break;
            case NoOutput:
                ExpectBits(LongTerm, 1, 0, 0);
                break;
            case LongTerm or Adaptive:
                ExpectSe(SliceQpDelta, -_g.PicInitQp, 51 - _g.PicInitQp);
                break;
            case SliceQpDelta:
                if (_g.DeblockingControl)
                {
                    ExpectUe(Deblock, 0, 2);
                }
                else
                {
                    StartData();
                }

                break;
            case Deblock:
                if (v != 1)
                {
                    ExpectSe(Alpha, -6, 6);
                }
                else
                {
                    StartData();
                }

                break;
            case Alpha:
                ExpectSe(Beta, -6, 6);
                break;
            case Beta:
                StartData();
                break;
            case SkipRun:
                if (v == 1)
                {
                    ExpectBits(StopBit, 1, 1, 1); // P_Skip: the slice's one macroblock
                }
                else
                {
                    ExpectUe(MbType, 0, 5 + 24, (IntraMbTypes << 5) | 1);
                }

                break;
            case MbType:
                MacroblockType(_intra ? v : v - 5);
                break;
            case PrevModeFlag when v == 0:
                ExpectBits(RemMode, 3, 0, 7, _remMask);
                break;
            case PrevModeFlag or RemMode:
                int mode = _sp == PrevModeFlag ? _pred : v < _pred ? v : v + 1;
                _modes |= (ulong)mode << (4 * MacroblockLayerReader.BlockIndexToRaster(_blk));
                _blk++;
                NextIntraBlock();
                break;
            case ChromaMode:
                if (_kind == KindI4)
                {
                    ExpectUe(Cbp, 0, CodedBlockPatternMapping.MaxCodeNum);
                }
                else
                {
                    ExpectSe(QpDelta, -26, 25);
                }

                break;
            case RefIdx:
                ExpectSe(MvdX, -_g.MvdHorizontal, _g.MvdHorizontal - 1);
                break;
            case MvdX:
                ExpectSe(MvdY, -_g.MvdVertical, _g.MvdVertical - 1);
                break;
            case MvdY:
                ExpectUe(Cbp, 0, CodedBlockPatternMapping.MaxCodeNum);
                break;
            case Cbp:
                _cbp = CodedBlockPatternMapping.FromCodeNum(v, _kind == KindI4);
                if (_cbp != 0)
                {
                    ExpectSe(QpDelta, -26, 25);
                }
                else
                {
                    ExpectBits(StopBit, 1, 1, 1);
                }

                break;
            case QpDelta:
                _pos = 0;
                NextBlock();
                break;
            default:
                OnResidual(v);
                break;
        }
    }

    private void StartData()
    {
        if (_intra)
        {
            ExpectUe(MbType, 0, 25, IntraMbTypes);
        }
        else
        {
            ExpectUe(SkipRun, 0, 1); // one macroblock per slice: skipped or coded
        }
    }

    private void MacroblockType(int t)
    {
        if (t < 0)
        {
            _kind = KindP16;
            if (_active > 2)
            {
                ExpectUe(RefIdx, 0, _active - 1);
            }
            else if (_active == 2)
            {
                ExpectBits(RefIdx, 1, 0, 1); // te(v) with cMax 1: one inverted bit
            }
            else
            {
                ExpectSe(MvdX, -_g.MvdHorizontal, _g.MvdHorizontal - 1);
            }
        }
        else if (t == 0)
        {
            _kind = KindI4;
            _blk = 0;
            NextIntraBlock();
        }
        else
        {
            _kind = KindI16;
            _cbp = ((((t - 1) / 4) % 3) << 4) | (t >= 13 ? 15 : 0);
            ExpectUe(ChromaMode, 0, 0); // DC: the neighbours are in other slices
        }
    }

    // Intra_4x4 modes (8.3.1.1): the predicted mode is DC where a neighbour block lies outside the macroblock
    // (another slice); a mode may only use neighbours inside the macroblock.
    private void NextIntraBlock()
    {
        if (_blk == 16)
        {
            ExpectUe(ChromaMode, 0, 0);
            return;
        }

        int raster = MacroblockLayerReader.BlockIndexToRaster(_blk);
        int bx = raster & 3, by = raster >> 2;
        bool left = bx > 0, top = by > 0;
        _pred = left && top ? (int)Math.Min((_modes >> (4 * (raster - 1))) & 15, (_modes >> (4 * (raster - 4))) & 15) : 2;
        ulong rem = 0;
        for (int r = 0; r < 8; r++)
        {
            if (IntraPrediction.Intra4x4ModeAllowed(r < _pred ? r : r + 1, left, top, left && top))
            {
                rem |= 1UL << r;
            }
        }

        ulong flag = (rem != 0 ? 1UL : 0) | (IntraPrediction.Intra4x4ModeAllowed(_pred, left, top, left && top) ? 2UL : 0);
        ExpectBits(PrevModeFlag, 1, 0, 1, flag);
        _remMask = rem;
    }

    private static ulong I16DcTypes()
    {
        ulong m = 0;
        for (int t = 1; t <= 24; t++)
        {
            if (IntraPrediction.Intra16x16ModeAllowed((t - 1) % 4, false, false, false))
            {
                m |= 1UL << t;
            }
        }

        return m;
    }
}

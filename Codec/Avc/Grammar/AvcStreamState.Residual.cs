namespace JpegLm.Codec.Avc.Grammar;

/// <summary>
/// residual() with CAVLC (7.3.5.3, 9.2) for the slice's one macroblock: the blocks in coding order, each
/// block's coeff_token from the table its nC selects (neighbour blocks count only inside the macroblock, the
/// others are in other slices), trailing-one signs, levels with the adaptive suffix length, total_zeros and
/// run_before within what the block still has room for.
/// </summary>
public partial struct AvcStreamState
{
    // Block order: 0 = Intra16x16DCLevel, 1..16 = luma 4x4 blocks by luma4x4BlkIdx, 17..18 = chroma DC (Cb, Cr),
    // 19..26 = chroma AC (Cb 0..3, Cr 0..3), 27 = the end.
    private void NextBlock()
    {
        int chroma = _cbp >> 4;
        for (; _pos < 27; _pos++)
        {
            if (_pos == 0)
            {
                if (_kind == KindI16)
                {
                    StartBlock(-1, LumaNc(0), 16);
                    return;
                }
            }
            else if (_pos <= 16)
            {
                int blk = _pos - 1;
                if ((_cbp & (1 << (blk >> 2))) != 0)
                {
                    int raster = MacroblockLayerReader.BlockIndexToRaster(blk);
                    StartBlock(raster, LumaNc(raster), _kind == KindI16 ? 15 : 16);
                    return;
                }
            }
            else if (_pos <= 18)
            {
                if (chroma != 0)
                {
                    StartBlock(-1, -1, 4);
                    return;
                }
            }
            else if (chroma == 2)
            {
                int b = _pos - 19;
                StartBlock(16 + b, ChromaNc(b >> 2, b & 3), 15);
                return;
            }
        }

        ExpectBits(StopBit, 1, 1, 1);
    }

    private void StartBlock(int slot, int nC, int maxCoeff)
    {
        _slot = slot;
        _maxCoeff = maxCoeff;
        byte table = (byte)CoeffTokenContext.Table(nC);
        ExpectTrie(CoeffToken, table, maxCoeff);
    }

    private void OnResidual(int v)
    {
        switch (_sp)
        {
            case CoeffToken:
                _tc = v >> 2;
                _t1 = v & 3;
                if (_slot >= 0)
                {
                    _totals[_slot] = (byte)_tc;
                }

                if (_tc == 0)
                {
                    EndBlock();
                    return;
                }

                _suffixLength = _tc > 10 && _t1 < 3 ? 1 : 0;
                _i = 0;
                NextCoefficient();
                break;
            case Sign:
                _i++;
                NextCoefficient();
                break;
            case Prefix:
                _levelPrefix = v;
                int size = v == 14 && _suffixLength == 0 ? 4 : v >= 15 ? v - 3 : _suffixLength;
                if (size > 0)
                {
                    ExpectBits(Suffix, size, 0, (1 << size) - 1);
                }
                else
                {
                    FinishLevel(0);
                }

                break;
            case Suffix:
                FinishLevel(v);
                break;
            case TotalZeros:
                _zerosLeft = v;
                _run = 0;
                NextRun();
                break;
            case RunBefore:
                _zerosLeft -= v;
                _run++;
                NextRun();
                break;
            case StopBit:
                if (_bit == 0)
                {
                    _sp = Done;
                    _ek = 0;
                }
                else
                {
                    Expect(Alignment, Align, 0, 0, 0);
                }

                break;
            case Alignment:
                _sp = Done;
                _ek = 0;
                break;
        }
    }

    private void NextCoefficient()
    {
        if (_i < _t1)
        {
            ExpectBits(Sign, 1, 0, 1);
        }
        else if (_i < _tc)
        {
            Expect(Prefix, LevelPrefix, 0, 0, 0);
        }
        else if (_tc < _maxCoeff)
        {
            ExpectTrie(TotalZeros, (byte)(_maxCoeff == 4 ? 30 + _tc : 10 + _tc), _maxCoeff - _tc);
        }
        else
        {
            EndBlock();
        }
    }

    // levelVal from level_prefix and level_suffix (9.2.2.1), for the suffix length of the next level.
    private void FinishLevel(int suffix)
    {
        int prefix = _levelPrefix;
        int levelCode = (Math.Min(15, prefix) << _suffixLength) + suffix;
        if (prefix >= 15 && _suffixLength == 0)
        {
            levelCode += 15;
        }

        if (_i == _t1 && _t1 < 3)
        {
            levelCode += 2;
        }

        int level = (levelCode & 1) == 0 ? (levelCode + 2) >> 1 : (-levelCode - 1) >> 1;
        if (_suffixLength == 0)
        {
            _suffixLength = 1;
        }

        if (Math.Abs(level) > (3 << (_suffixLength - 1)) && _suffixLength < 6)
        {
            _suffixLength++;
        }

        _i++;
        NextCoefficient();
    }

    private void NextRun()
    {
        if (_run < _tc - 1 && _zerosLeft > 0)
        {
            ExpectTrie(RunBefore, (byte)(40 + Math.Min(_zerosLeft, 7)), _zerosLeft);
        }
        else
        {
            EndBlock();
        }
    }

    private void EndBlock()
    {
        _pos++;
        NextBlock();
    }

    // nC (9.2.1) without a picture: the slice's one macroblock has no neighbours in its own slice.
    private readonly int LumaNc(int raster) => CoeffTokenContext.Luma(null, 0, 0, raster, _totals);

    private readonly int ChromaNc(int c, int blk) => CoeffTokenContext.Chroma(null, 0, 0, c, blk, _totals);
}

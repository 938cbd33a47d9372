namespace JpegLm.Codec.Avc;

/// <summary>
/// Macroblock to slice group maps for flexible macroblock ordering (clause 8.2.2), frames only
/// (map units are macroblocks): types 0 interleaved, 1 dispersed, 2 foreground with leftover,
/// 3 box-out, 4 raster scan, 5 wipe, 6 explicit.
/// </summary>
internal static class SliceGroupMap
{
    public static void Build(PictureParameterSet pps, int w, int h, int changeCycle, byte[] map)
    {
        int size = w * h;
        int groups = pps.NumSliceGroups;
        int unitsInGroup0 = (int)Math.Min((long)changeCycle * pps.SliceGroupChangeRate, size);
        bool dir = pps.SliceGroupChangeDirection;
        switch (pps.SliceGroupMapType)
        {
            case 0:
                {
                    int i = 0;
                    do
                    {
                        for (int g = 0; g < groups && i < size; i += pps.RunLength[g++])
                        {
                            for (int j = 0; j < pps.RunLength[g] && i + j < size; j++)
                            {
                                map[i + j] = (byte)g;
                            }
                        }
                    }
                    while (i < size);
                    break;
                }

            case 1:
                for (int i = 0; i < size; i++)
                {
                    map[i] = (byte)(((i % w) + ((i / w) * groups / 2)) % groups);
                }

                break;
            case 2:
                Array.Fill(map, (byte)(groups - 1));
                for (int g = groups - 2; g >= 0; g--)
                {
                    int yTop = pps.TopLeft[g] / w, xTop = pps.TopLeft[g] % w;
                    int yBottom = pps.BottomRight[g] / w, xBottom = pps.BottomRight[g] % w;
                    for (int y = yTop; y <= yBottom && y < h; y++)
                    {
                        for (int x = xTop; x <= xBottom && x < w; x++)
                        {
                            map[(y * w) + x] = (byte)g;
                        }
                    }
                }

                break;
            case 3:
                BoxOut(map, w, h, dir ? 1 : 0, unitsInGroup0);
                break;
            case 4:
                {
                    int upperLeft = dir ? size - unitsInGroup0 : unitsInGroup0;
                    for (int i = 0; i < size; i++)
                    {
                        map[i] = (byte)(i < upperLeft ? (dir ? 1 : 0) : (dir ? 0 : 1));
                    }

                    break;
                }

            case 5:
                {
                    int upperLeft = dir ? size - unitsInGroup0 : unitsInGroup0;
                    int k = 0;
                    for (int x = 0; x < w; x++)
                    {
                        for (int y = 0; y < h; y++)
                        {
                            map[(y * w) + x] = (byte)(k++ < upperLeft ? (dir ? 1 : 0) : (dir ? 0 : 1));
                        }
                    }

                    break;
                }

            default:
                if (pps.SliceGroupId.Length != size)
                {
                    throw new AvcFormatException($"explicit slice group map has {pps.SliceGroupId.Length} entries for {size} macroblocks", -1);
                }

                for (int i = 0; i < size; i++)
                {
                    map[i] = (byte)pps.SliceGroupId[i];
                }

                break;
        }
    }

    // Box-out (8.2.2.4): group 0 grows as a spiral from the centre, clockwise or counter-clockwise.
    private static void BoxOut(byte[] map, int w, int h, int dir, int unitsInGroup0)
    {
        Array.Fill(map, (byte)1);
        int x = (w - dir) / 2, y = (h - dir) / 2;
        int left = x, top = y, right = x, bottom = y;
        int xDir = dir - 1, yDir = dir;
        for (int k = 0; k < unitsInGroup0;)
        {
            bool vacant = map[(y * w) + x] == 1;
            if (vacant)
            {
                map[(y * w) + x] = 0;
            }

            if (xDir == -1 && x == left)
            {
                left = Math.Max(left - 1, 0);
                x = left;
                xDir = 0;
                yDir = (2 * dir) - 1;
            }
            else if (xDir == 1 && x == right)
            {
                right = Math.Min(right + 1, w - 1);
                x = right;
                xDir = 0;
                yDir = 1 - (2 * dir);
            }
            else if (yDir == -1 && y == top)
            {
                top = Math.Max(top - 1, 0);
                y = top;
                xDir = 1 - (2 * dir);
                yDir = 0;
            }
            else if (yDir == 1 && y == bottom)
            {
                bottom = Math.Min(bottom + 1, h - 1);
                y = bottom;
                xDir = (2 * dir) - 1;
                yDir = 0;
            }
            else
            {
                x += xDir;
                y += yDir;
            }

            k += vacant ? 1 : 0;
        }
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;
using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Cli.Tests;

/// <summary>
/// The README's main job, shortened: <c>jpeglm demo</c> end to end, then its page as a user sees it — rendered by a real
/// browser (Debian's headless Chromium, which <c>.ci/run</c> installs), not blank, and every picture it shows on disk.
/// </summary>
public partial class DemoPageTests(ITestOutputHelper output)
{
    [GeneratedRegex("<img src=\"([^\"]+)\"")]
    private static partial Regex ImageSources();

    [SkippableFact]
    public void The_demo_page_lists_its_figures_and_renders_with_every_picture_present()
    {
        string dir = TestPaths.NewTempDirectory();
        string demo = Path.Combine(dir, "demo-out");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(["demo", "--out", demo, "--images", "600", "--minutes", "0.5", "--steps", "60"], stdout, stderr);
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        Assert.Equal(0, code); // every constrained sample valid
        string html = File.ReadAllText(Path.Combine(demo, "index.html"));
        Assert.Contains("trivial baseline", html, StringComparison.Ordinal);
        Assert.Contains("mean absolute error", html, StringComparison.Ordinal);
        string[] pictures = [.. ImageSources().Matches(html).Select(m => m.Groups[1].Value)];
        Assert.True(pictures.Length >= 3, "the page shows the loss, the completions and the samples");
        Assert.All(pictures, p => Assert.True(File.Exists(Path.Combine(demo, p)), $"{p} is referenced but missing"));

        string? chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        Skip.If(chromium == null, "no headless Chromium here (Debian package chromium; .ci/run installs it)");
        string shot = Path.Combine(dir, "page.png");
        var start = new ProcessStartInfo(chromium!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(dir, "chrome-profile")}",
            "--window-size=1000,1600", $"--screenshot={shot}", new Uri(Path.Combine(demo, "index.html")).AbsoluteUri,
        })
        {
            start.ArgumentList.Add(arg);
        }

        using (Process browser = Process.Start(start)!)
        {
            Task<string> err = browser.StandardError.ReadToEndAsync();
            _ = browser.StandardOutput.ReadToEndAsync();
            Assert.True(browser.WaitForExit(TimeSpan.FromMinutes(2)), "chromium did not finish within 2 minutes");
            output.WriteLine(err.Result);
        }

        Assert.True(File.Exists(shot), "chromium wrote no screenshot");
        PixelImage page = ImageFile.Load(shot);
        // Not blank: a real page has text and pictures, so many pixels differ from the background and take many values.
        int background = page.Pixels[0], differing = 0;
        var values = new HashSet<int>();
        for (int i = 0; i < page.Pixels.Length; i += page.Channels)
        {
            differing += Math.Abs(page.Pixels[i] - background) > 32 ? 1 : 0;
            values.Add(page.Pixels[i]);
        }

        int pixels = page.Width * page.Height;
        Assert.True(differing > pixels / 100, $"only {differing} of {pixels} pixels differ from the background");
        Assert.True(values.Count > 32, $"only {values.Count} distinct levels: a blank page");
    }
}

package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// gate holds a registry's tag listings until the test ends (or the client
// gives up), so a cycle of a workflow over it stays running: something to
// cancel. listed is closed when the first listing arrives.
type gate struct {
	once     sync.Once
	listed   chan struct{}
	released chan struct{}
}

func newGate(t *testing.T) *gate {
	g := &gate{listed: make(chan struct{}), released: make(chan struct{})}
	t.Cleanup(func() { close(g.released) })
	return g
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			g.once.Do(func() { close(g.listed) })
			select {
			case <-g.released:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// artifactDir is where the browser test leaves its screenshots:
// $PATCHLOOP_ARTIFACTS, else a temporary directory.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("PATCHLOOP_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDashboardInBrowser drives the dashboard with headless Chromium: serve
// in-process with a workflow over a vulnerable image (app:1.0) and a clean
// one (quiet:1.0), and a second workflow over a registry whose tag listings
// hang. The browser logs in (a wrong token first), waits for the cycle to
// finish through the page's live refresh, checks both images' statuses and
// vulnerability counts, opens the patch run's log, filters the runs table,
// starts the second workflow's cycle with "Run now" and cancels it.
func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s (.ci/run installs Debian's chromium package): %v", chromiumPath, err)
	}
	ref, db, repo := patchFixture(t)
	host := strings.SplitN(ref, "/", 2)[0]
	registrytest.Push(t, host+"/quiet:1.0", patchtest.Image(t, patchtest.ImageSpec{
		Release:  patchtest.Bookworm,
		Packages: []aptrepo.Package{{Name: "hello", Version: "1.0-2", Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello"), Mode: 0o755}}}},
		Keyring:  repo.Keyring,
	}))
	g := newGate(t)
	slow := registrytest.StartWith(t, g.wrap)
	registrytest.PushRandom(t, slow, "slow", "1.0")
	dir := t.TempDir()
	if err := os.CopyFS(dbDir(dir), os.DirFS(db)); err != nil {
		t.Fatal(err)
	}
	setBuilt(t, dbDir(dir), time.Now().Add(-3*time.Hour-time.Minute))
	serveInProcess(t, "--data-dir", dir, "--skip-db-update", "--apt-mirror", repo.URL)
	base := os.Getenv(client.EnvServer)
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [
		{"repository": "app", "tags": ["*"]}, {"repository": "quiet", "tags": ["1.0"]}]}`)
	if code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--run-immediately", "--data-dir", dir); code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	slowCfg := writeFile(t, "slow.json", `{"version": "v1", "repositories": [{"repository": "slow", "tags": ["*"]}]}`)
	if code, out, errs := run(t, "", "workflow", "create", "-r", slow, "--config", slowCfg, "--schedule", "7d", "--data-dir", dir); code != 0 {
		t.Fatalf("create slow: exit %d\n%s%s", code, out, errs)
	}

	shots := artifactDir(t)
	t.Logf("screenshots in %s", shots)
	ctx := browser(t)
	fail := func(step string, err error) {
		t.Helper()
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		t.Fatalf("%s: %v\npage:\n%s", step, err, html)
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			fail(step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("text of "+sel, err)
		}
		return strings.Join(strings.Fields(s), " ")
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name), png, 0o644)
		})
	}
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	wfSel := func(registry, sel string) string { return `section.workflow[data-registry="` + registry + `"] ` + sel }
	imgSel := func(image, sel string) string { return wfSel(host, `tr[data-image="`+image+`"] `+sel) }

	// Log in: a wrong token is refused, the right one opens the overview.
	do("wrong token",
		chromedp.Navigate(base+"/"),
		visible("#token"),
		chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token-0123456789"),
		click("#login"),
		visible("#login-error"),
	)
	if got := text("#login-error"); !strings.Contains(got, "Wrong API token") {
		t.Errorf("login error = %q", got)
	}
	do("log in",
		chromedp.SendKeys(chromedp.CSS("#token"), strings.TrimSpace(string(token))),
		click("#login"),
		visible(wfSel(host, "h2")),
	)

	// The page refreshes itself until the cycle is done.
	do("cycle done",
		visible(imgSel("app:1.0", ".patch-status .st-succeeded")),
		visible(imgSel("quiet:1.0", ".scan-status .st-succeeded")),
		shot("dashboard-desktop.png"),
	)
	if got := text("#vulndb"); !strings.HasPrefix(got, "Vulnerability database: built ") || !strings.HasSuffix(got, ", 3 h ago") {
		t.Errorf("vulnerability database line = %q", got)
	}
	for sel, want := range map[string]string{
		imgSel("app:1.0", ".before"):         "1 HIGH 1",
		imgSel("app:1.0", ".after"):          "0",
		imgSel("app:1.0", ".last-patched"):   "app:1.0-1",
		imgSel("app:1.0", ".patch-status"):   "Succeeded",
		imgSel("quiet:1.0", ".before"):       "0",
		imgSel("quiet:1.0", ".after"):        "0",
		imgSel("quiet:1.0", ".patch-status"): "Skipped",
		imgSel("quiet:1.0", ".last-patched"): "—",
		imgSel("quiet:1.0", ".why"):          "no vulnerability found in the image quiet:1.0",
	} {
		if got := text(sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}

	// The patch run's page shows its full log.
	do("run log", click(imgSel("app:1.0", ".patch-status")), visible("#run-log"), shot("dashboard-run-log.png"))
	if log, status := text("#run-log"), text("#run-status"); !strings.Contains(log, "pushed patched image") || !strings.Contains(log, "app:1.0-1") || status != "Succeeded" {
		t.Errorf("run page: status %q, log:\n%s", status, log)
	}

	// The runs table filters by task and status, as task list-runs.
	do("runs filter",
		chromedp.Navigate(base+"/runs"),
		visible("#filter-task"),
		chromedp.SetValue(chromedp.CSS("#filter-task"), "cssc-patch-image"),
		chromedp.SetValue(chromedp.CSS("#filter-status"), "Succeeded"),
		click("#filter"),
		visible("#filtered"),
	)
	if got, want := text("#filtered"), "Showing cssc-patch-image runs with status Succeeded"; !strings.HasPrefix(got, want) {
		t.Errorf("filter summary = %q, want %q…", got, want)
	}
	if rows := text("table.runs tbody"); strings.Count(rows, "patch-image") != 1 || !strings.Contains(rows, "pushed app:1.0-1") || strings.Contains(rows, "scan-image") {
		t.Errorf("runs filtered to succeeded patches:\n%s", rows)
	}

	// Run now starts the slow workflow's cycle; cancel stops it.
	do("run now",
		chromedp.Navigate(base+"/"),
		visible(wfSel(slow, ".run-now")),
		click(wfSel(slow, ".run-now")),
		visible(".notice"),
	)
	if got, want := text(".notice"), "A cycle of "+slow+" starts now."; got != want {
		t.Errorf("notice = %q, want %q", got, want)
	}
	select {
	case <-g.listed:
	case <-time.After(60 * time.Second):
		t.Fatal("the slow workflow's cycle did not list the registry's tags")
	}
	do("cancel",
		visible(wfSel(slow, ".last-cycle .st-running")),
		click(wfSel(slow, ".cancel")),
		visible(wfSel(slow, ".last-cycle .st-canceled")),
	)
	if got, want := text(".notice"), "Canceled 1 run(s) of "+slow+"."; got != want {
		t.Errorf("notice = %q, want %q", got, want)
	}

	// At phone width the tables become cards.
	do("phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(base+"/"),
		visible(imgSel("app:1.0", ".image-name")),
		shot("dashboard-phone.png"),
	)
	display, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("table.images thead")).display`))
	if err != nil || display != "none" {
		t.Errorf("at phone width the table header is displayed as %q (%v), want none", display, err)
	}
}

// browser starts headless Chromium in a fresh profile for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	// Start the browser now, so a broken installation fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

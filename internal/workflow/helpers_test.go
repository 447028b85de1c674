package workflow

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch"
	_ "github.com/patchloop/patchloop/internal/patch/apk" // registers the apk patcher
	_ "github.com/patchloop/patchloop/internal/patch/apt" // registers the apt patcher
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	_ "github.com/patchloop/patchloop/internal/patch/rpm" // registers the rpm patcher
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// t0 is when every test's clock starts.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// testLogger discards logs unless PATCHLOOP_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("PATCHLOOP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// hello is the test package, one file that changes with its version.
func hello(version string) aptrepo.Package {
	return aptrepo.Package{Name: "hello", Version: version, Files: []deb.File{
		{Path: "usr/bin/hello", Data: []byte("hello " + version), Mode: 0o755},
	}}
}

// fixture is a registry, a signed APT repository, a vulnerability database
// and a SQLite file an engine runs on.
type fixture struct {
	host     string
	repo     *aptrepo.Repo
	vulnDir  string
	aptCache string
	database string
	clock    *ManualClock
	mirror   string // when set, replaces the images' APT sources

	mu     sync.Mutex
	images map[string]v1.Image // Debian images by hello version
}

// advisory1 is fixed in hello 1.0-2; advisory2 in 1.0-3.
var (
	advisory1 = patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"}
	advisory2 = patchtest.Advisory{Source: "hello", ID: "CVE-2024-0002", Fixed: "1.0-3"}
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		host: registrytest.Start(t),
		repo: aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
			{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
			{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
		}}),
		vulnDir:  patchtest.WriteDatabase(t, "debian 12", advisory1),
		aptCache: t.TempDir(),
		database: filepath.Join(t.TempDir(), "patchloop.db"),
		clock:    NewManualClock(t0),
		images:   map[string]v1.Image{},
	}
	return f
}

// options are the engine options of the fixture, tuned for fast tests.
func (f *fixture) options() Options {
	return Options{
		Database:  f.database,
		Registry:  registry.New(),
		VulnDBDir: f.vulnDir,
		Patch: patch.Config{DataDir: f.aptCache, Logger: testLogger(), Repositories: map[string]patch.RepositoryConfig{
			"apt": {Mirrors: patch.Mirrors{All: f.mirror}},
		}},
		ScanWorkers:       2,
		PatchWorkers:      2,
		RetryBackoff:      10 * time.Millisecond,
		SchedulerInterval: time.Second,
		PollInterval:      20 * time.Millisecond,
		StopTimeout:       5 * time.Second,
		Clock:             f.clock,
		Logger:            testLogger(),
		testOnly:          true,
	}
}

// start opens and starts an engine; it is closed when the test ends.
func (f *fixture) start(t testing.TB, mods ...func(*Options)) *Engine {
	t.Helper()
	opts := f.options()
	for _, m := range mods {
		m(&opts)
	}
	ctx := context.Background()
	e, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// debian returns a Debian 12 image with hello at version, whose APT
// sources are the fixture's repository.
func (f *fixture) debian(t testing.TB, version string) v1.Image {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if img, ok := f.images[version]; ok {
		return img
	}
	img := patchtest.Image(t, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    []aptrepo.Package{hello(version)},
		SourcesList: "deb " + f.repo.URL + " bookworm main\ndeb " + f.repo.URL + " bookworm-security main\n",
		Keyring:     f.repo.Keyring,
	})
	f.images[version] = img
	return img
}

// push pushes img under repo:tag of the fixture's registry and every
// extra tag.
func (f *fixture) push(t testing.TB, img v1.Image, repo string, tagList ...string) {
	t.Helper()
	p, err := remote.NewPusher()
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tagList {
		ref, err := name.NewTag(f.host + "/" + repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Push(context.Background(), ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
}

// tags lists the tags of a repository of the fixture's registry.
func (f *fixture) tags(t *testing.T, repo string) []string {
	t.Helper()
	r, err := name.NewRepository(f.host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	all, err := remote.List(r)
	if err != nil {
		t.Fatalf("list %s: %v", r, err)
	}
	slices.Sort(all)
	return all
}

// digest returns the digest repo:tag points at.
func (f *fixture) digest(t *testing.T, repo, tag string) string {
	t.Helper()
	ref, err := name.NewTag(f.host + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(ref)
	if err != nil {
		t.Fatalf("head %s: %v", ref, err)
	}
	return d.Digest.String()
}

// configOf is a workflow config selecting every tag of repos.
func configOf(conv string, repos ...string) []byte {
	var parts []string
	for _, r := range repos {
		parts = append(parts, `{"repository": "`+r+`", "tags": ["*"], "enabled": true}`)
	}
	return []byte(`{"version": "v1", "tag-convention": "` + conv + `", "repositories": [` + strings.Join(parts, ", ") + `]}`)
}

// create creates the fixture registry's workflow.
func (f *fixture) create(t testing.TB, e *Engine, cfg []byte, runNow bool) *Workflow {
	t.Helper()
	w, err := e.Create(context.Background(), CreateRequest{Registry: f.host, Type: TypeContinuousPatchV1,
		ConfigName: "config.json", Config: cfg, Schedule: "1d", RunImmediately: runNow, By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// runCycle moves the clock by d, starts what is due and waits until every
// run has finished.
func (f *fixture) runCycle(t testing.TB, e *Engine, d time.Duration) {
	t.Helper()
	f.clock.Advance(d)
	if err := e.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, e, f.host)
}

// waitIdle waits until no run of the registry is queued or running.
func waitIdle(t testing.TB, e *Engine, host string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := e.store.CountRuns(context.Background(), host, openStatuses)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still open", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runsOf lists the runs of a task, oldest first.
func runsOf(t testing.TB, e *Engine, host, task string) []Run {
	t.Helper()
	runs, err := e.Runs(context.Background(), RunFilter{Registry: host, Task: task})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(runs)
	return runs
}

// imageStatuses returns Images keyed by image.
func imageStatuses(t *testing.T, e *Engine, host, status string) map[string]ImageStatus {
	t.Helper()
	list, err := e.Images(context.Background(), host, status)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ImageStatus{}
	for _, st := range list {
		out[st.Image] = st
	}
	return out
}

// gate is an APT mirror in front of the fixture's repository that holds
// package downloads until opened.
type gate struct {
	url     string
	entered chan struct{} // receives when a download waits
	mu      sync.Mutex
	open    chan struct{}
}

// newGate starts a closed gate and makes it the fixture's mirror.
func newGate(t *testing.T, f *fixture) *gate {
	t.Helper()
	target, err := url.Parse(strings.TrimSuffix(f.repo.URL, "/debian"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{entered: make(chan struct{}, 16), open: make(chan struct{})}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/pool/") {
			g.mu.Lock()
			open := g.open
			g.mu.Unlock()
			select {
			case g.entered <- struct{}{}:
			default:
			}
			select {
			case <-open:
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.release)
	g.url = srv.URL + "/debian"
	f.mirror = g.url
	return g
}

// release lets downloads through.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// waitEntered waits until a download is held.
func (g *gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(time.Minute):
		t.Fatal("no package download reached the mirror")
	}
}

// cycleOneImage pushes img as repo:1.0, runs one cycle of an incremental
// workflow over it, and checks the scan found one fixable vulnerability
// and the patch pushed repo:1.0-1.
func (f *fixture) cycleOneImage(t *testing.T, img v1.Image, repo string) {
	t.Helper()
	f.push(t, img, repo, "1.0")
	e := f.start(t)
	f.create(t, e, configOf("incremental", repo), false)
	f.runCycle(t, e, day)
	app := imageStatuses(t, e, f.host, "")[repo+":1.0"]
	if app.Scan.Status != StatusSucceeded || app.Scan.Result.Fixable != 1 || app.Patch == nil ||
		app.Patch.Status != StatusSucceeded || app.Patch.Result.PatchedImage != repo+":1.0-1" {
		t.Fatalf("%s = %s", repo, show(app))
	}
}

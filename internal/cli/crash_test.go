package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/store"
	"github.com/patchloop/patchloop/internal/store/storetest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/workflow"
)

// TestServeKilledMidPatchSQLite runs the real binary on SQLite with the
// embedded registry, kills it with SIGKILL while two patches are pushing
// (app's manifest landed but its response never came; web's manifest never
// reached the registry), and starts it again on the same data directory:
// every run of the cycle finishes within two minutes, and each image has
// exactly one new tag.
func TestServeKilledMidPatchSQLite(t *testing.T) {
	bin := buildPatchloop(t)
	fx := newCrashFixture(t)
	regAddr := freeAddr(t)
	gate := newPushGate(t, map[string]bool{"web": true})
	upstream, _ := url.Parse("http://" + regAddr)
	proxy := httptest.NewServer(gate.wrap(httputil.NewSingleHostReverseProxy(upstream)))
	t.Cleanup(proxy.Close)
	t.Cleanup(gate.open) // before proxy.Close, which waits for held requests
	host := proxy.Listener.Addr().String()

	dir := t.TempDir()
	if err := os.CopyFS(dbDir(dir), os.DirFS(fx.db)); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data-dir", dir, "--skip-db-update", "--apt-mirror", fx.repo.URL,
		"--embedded-registry", regAddr, "--token", crashToken, "--concurrency", "4"}
	srv := startServe(t, bin, args...)
	for _, repo := range []string{"app", "web"} {
		registrytest.Push(t, host+"/"+repo+":1.0", fx.img)
	}
	gate.arm()
	createWorkflow(t, host, "app", "web")

	gate.wait(t, "app's manifest to land", gate.landed, "app")
	gate.wait(t, "web's manifest to be pushed", gate.held, "web")
	waitRuns(t, host, "both patches Running", func(runs []workflow.Run) bool {
		return count(runs, workflow.TaskPatch, workflow.StatusRunning) == 2
	})
	srv.kill(t)
	gate.open()

	restarted := time.Now()
	startServe(t, bin, args...)
	runs := waitRuns(t, host, "every run to finish", func(runs []workflow.Run) bool {
		return len(runs) == 5 && count(runs, "", workflow.StatusSucceeded) == 5
	})
	t.Logf("every run finished %s after the restart", time.Since(restarted).Round(time.Millisecond))
	if d := time.Since(restarted); d > 2*time.Minute {
		t.Errorf("runs finished %s after the restart, want within 2m", d)
	}
	checkOnePatchEach(t, host, runs, "app", "web")
	logs := runLogs(t, runs, workflow.TaskPatch)
	if !strings.Contains(logs["app:1.0"], "the previous attempt pushed the patched image") {
		t.Errorf("app's patch did not reuse the push that landed:\n%s", logs["app:1.0"])
	}
	if !strings.Contains(logs["web:1.0"], "did not land; patching again") {
		t.Errorf("web's patch did not notice its push never landed:\n%s", logs["web:1.0"])
	}
}

// TestServeKilledMidPatchPostgres runs two real serve processes on one
// PostgreSQL database with short lease thresholds, kills the one whose patch
// is pushing (its manifest landed, its response never came), and checks that
// the other recovers the run within two minutes: it finishes with the image
// already pushed, and the image has exactly one new tag.
func TestServeKilledMidPatchPostgres(t *testing.T) {
	database := storetest.Postgres(t) // skips without a PostgreSQL server
	bin := buildPatchloop(t)
	fx := newCrashFixture(t)
	gate := newPushGate(t, nil)
	host := registrytest.StartWith(t, gate.wrap)
	t.Cleanup(gate.open) // before the registry closes, which waits for held requests
	registrytest.Push(t, host+"/app:1.0", fx.img)
	registrytest.Push(t, host+"/quiet:1.0", fx.clean)

	var servers []*serveProcess
	for range 2 {
		dir := t.TempDir()
		if err := os.CopyFS(dbDir(dir), os.DirFS(fx.db)); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, startServe(t, bin, "--data-dir", dir, "--skip-db-update", "--apt-mirror", fx.repo.URL,
			"--database-url", database, "--token", crashToken, "--concurrency", "2",
			"--heartbeat-interval", "100ms", "--lease-timeout", "3s"))
	}
	gate.arm()
	createWorkflow(t, host, "app", "quiet")
	gate.wait(t, "app's manifest to land", gate.landed, "app")

	// The process holding the patch's lease is the one pushing it.
	db, err := store.OpenPostgres(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	patches, err := store.New(db).Runs(context.Background(), store.RunFilter{Registry: host, Task: workflow.TaskPatch})
	if err != nil || len(patches) != 1 || patches[0].Status != string(workflow.StatusRunning) {
		t.Fatalf("patch runs = %+v, %v", patches, err)
	}
	victim, survivor := servers[0], servers[1]
	if !victim.owns(patches[0].Owner) {
		victim, survivor = survivor, victim
	}
	if !victim.owns(patches[0].Owner) {
		t.Fatalf("the patch is held by %q, neither serve process (%d, %d)", patches[0].Owner, servers[0].pid(), servers[1].pid())
	}
	victim.kill(t)
	gate.open()
	killed := time.Now()
	survivor.use(t)

	runs := waitRuns(t, host, "every run to finish", func(runs []workflow.Run) bool {
		return len(runs) == 4 && count(runs, "", workflow.StatusSucceeded) == 4
	})
	t.Logf("the other process finished the run %s after the kill", time.Since(killed).Round(time.Millisecond))
	if d := time.Since(killed); d > 2*time.Minute {
		t.Errorf("runs finished %s after the kill, want within 2m", d)
	}
	checkOnePatchEach(t, host, runs, "app")
	log := runLogs(t, runs, workflow.TaskPatch)["app:1.0"]
	for _, want := range []string{"lost its worker", "the previous attempt pushed the patched image"} {
		if !strings.Contains(log, want) {
			t.Errorf("patch log lacks %q:\n%s", want, log)
		}
	}
	if !strings.Contains(survivor.stderr.String(), "run recovered from a dead worker") {
		t.Errorf("the surviving process did not recover the run:\n%s", survivor.stderr)
	}
}

// crashToken is the API token of the crash tests' serve processes.
const crashToken = "crash-recovery-test-token-0123456789abcdef"

// crashFixture is a signed APT repository with the fix, a vulnerability
// database, a vulnerable image and a clean one.
type crashFixture struct {
	repo       *aptrepo.Repo
	db         string
	img, clean v1.Image
}

func newCrashFixture(t *testing.T) *crashFixture {
	t.Helper()
	hello := func(v string) aptrepo.Package {
		return aptrepo.Package{Name: "hello", Version: v, Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello " + v), Mode: 0o755}}}
	}
	fx := &crashFixture{repo: aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})}
	sources := "deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main\n"
	fx.img = patchtest.Image(t, patchtest.ImageSpec{Release: patchtest.Bookworm, Packages: []aptrepo.Package{hello("1.0-1")},
		SourcesList: sources, Keyring: fx.repo.Keyring})
	fx.clean = patchtest.Image(t, patchtest.ImageSpec{Release: patchtest.Bookworm, Packages: []aptrepo.Package{hello("1.0-2")},
		SourcesList: sources, Keyring: fx.repo.Keyring})
	fx.db = patchtest.WriteDatabase(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})
	return fx
}

// buildPatchloop builds the patchloop binary into a temporary directory.
func buildPatchloop(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the binary needs the go command on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "patchloop")
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/patchloop/patchloop/cmd/patchloop")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address no one listens on (for a listener
// that must keep its port across restarts).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// serveProcess is a `patchloop serve` child process.
type serveProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	api    string // the API's URL
}

// startServe starts the binary's serve command with args, waits until its
// API listens and points the client commands at it.
func startServe(t *testing.T, bin string, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("serve (pid %d) stderr:\n%s", p.pid(), p.stderr)
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; {
		if m := listening.FindStringSubmatch(p.stderr.String()); m != nil {
			p.api = m[1]
			p.use(t)
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("serve exited before listening:\n%s", p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", p.stderr)
		}
	}
}

func (p *serveProcess) pid() int { return p.cmd.Process.Pid }

// use points the client commands at this process's API.
func (p *serveProcess) use(t *testing.T) {
	t.Setenv(client.EnvServer, p.api)
	t.Setenv(client.EnvToken, crashToken)
}

// owns reports whether a run owner names this process (hostname:pid).
func (p *serveProcess) owns(owner string) bool {
	m := regexp.MustCompile(`^\S+:(\d+) `).FindStringSubmatch(owner)
	return m != nil && m[1] == strconv.Itoa(p.pid())
}

// kill sends SIGKILL and waits until the process is gone.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// pushGate is registry middleware that, once armed, stops the pushes of
// patched tags: a repository in holdBefore has its manifest PUT held before
// it reaches the registry (the push never lands); any other has it passed
// to the registry and its response held (the push landed, the pusher never
// learns it). Held requests wait until open.
type pushGate struct {
	holdBefore map[string]bool
	landed     chan string // repositories whose manifest landed
	held       chan string // repositories whose manifest was held back

	mu       sync.Mutex
	armed    bool
	released chan struct{}
	opened   bool
}

func newPushGate(t *testing.T, holdBefore map[string]bool) *pushGate {
	return &pushGate{holdBefore: holdBefore, landed: make(chan string, 16), held: make(chan string, 16), released: make(chan struct{})}
}

// tagPut matches a manifest PUT by tag: /v2/<repository>/manifests/<tag>.
var tagPut = regexp.MustCompile(`^/v2/(.+)/manifests/([^/:]+)$`)

func (g *pushGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := tagPut.FindStringSubmatch(r.URL.Path)
		g.mu.Lock()
		armed := g.armed
		g.mu.Unlock()
		if r.Method != http.MethodPut || m == nil || !armed || m[1] == "csscpolicies/patchpolicy" {
			next.ServeHTTP(w, r)
			return
		}
		if g.holdBefore[m[1]] {
			g.held <- m[1]
			<-g.released
			http.Error(w, "held by the test", http.StatusServiceUnavailable)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code != http.StatusCreated {
			http.Error(w, rec.Body.String(), rec.Code)
			return
		}
		g.landed <- m[1]
		<-g.released
		http.Error(w, "held by the test", http.StatusServiceUnavailable)
	})
}

func (g *pushGate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = true
}

// open disarms the gate and fails the requests it holds.
func (g *pushGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = false
	if !g.opened {
		g.opened = true
		close(g.released)
	}
}

// wait waits for repo to come out of ch.
func (g *pushGate) wait(t *testing.T, what string, ch <-chan string, repo string) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case got := <-ch:
			if got == repo {
				return
			}
			t.Fatalf("waiting for %s: the gate stopped %s", what, got)
		case <-timeout:
			t.Fatalf("waiting for %s: timed out", what)
		}
	}
}

// createWorkflow creates a workflow over repos' tag 1.0 that runs at once.
func createWorkflow(t *testing.T, host string, repos ...string) {
	t.Helper()
	var sel []string
	for _, r := range repos {
		sel = append(sel, fmt.Sprintf(`{"repository": %q, "tags": ["1.0"]}`, r))
	}
	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [`+strings.Join(sel, ",")+`]}`)
	code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--run-immediately", "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
}

// waitRuns polls the API's runs until done holds (two minutes at most).
func waitRuns(t *testing.T, host, what string, done func([]workflow.Run) bool) []workflow.Run {
	t.Helper()
	api, err := client.FromEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var runs []workflow.Run
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		runs, err = api.Runs(context.Background(), workflow.RunFilter{Registry: host})
		if err == nil && done(runs) {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v\nruns: %+v", what, err, runs)
		}
	}
}

// count counts the runs of a task (any with "") in a status.
func count(runs []workflow.Run, task string, status workflow.RunStatus) int {
	n := 0
	for _, r := range runs {
		if (task == "" || r.Task == task) && r.Status == status {
			n++
		}
	}
	return n
}

// checkOnePatchEach checks that each repository's 1.0 was scanned and
// patched by one run each and has exactly one new tag, the one its patch
// run reports.
func checkOnePatchEach(t *testing.T, host string, runs []workflow.Run, repos ...string) {
	t.Helper()
	per := map[string]int{}
	for _, r := range runs {
		per[r.Task+" "+r.Image]++
	}
	for _, repo := range repos {
		for _, task := range []string{workflow.TaskScan, workflow.TaskPatch} {
			if n := per[task+" "+repo+":1.0"]; n != 1 {
				t.Errorf("%s runs of %s:1.0: %d, want 1", task, repo, n)
			}
		}
		for _, r := range runs {
			if r.Task == workflow.TaskPatch && r.Image == repo+":1.0" && r.Result.PatchedImage != repo+":1.0-1" {
				t.Errorf("patch of %s:1.0 reports %q, want %s:1.0-1", repo, r.Result.PatchedImage, repo)
			}
		}
		rp, err := name.NewRepository(host + "/" + repo)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := remote.List(rp)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(tags)
		if want := []string{"1.0", "1.0-1"}; !slices.Equal(tags, want) {
			t.Errorf("%s tags = %v, want %v", repo, tags, want)
		}
	}
}

// runLogs returns the logs of a task's runs by image.
func runLogs(t *testing.T, runs []workflow.Run, task string) map[string]string {
	t.Helper()
	api, err := client.FromEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range runs {
		if r.Task != task {
			continue
		}
		log, err := api.RunLog(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[r.Image] = log
	}
	return out
}

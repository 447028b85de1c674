package imagefs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// resolve opens img and answers req, failing the test on error.
func resolve(t *testing.T, img v1.Image, req imagefs.Request) *imagefs.Result {
	t.Helper()
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Resolve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantFile checks that a resolved file has the content and comes from the
// layer at index (0 = bottom).
func wantFile(t *testing.T, res *imagefs.Result, key, content, realPath string, index int) {
	t.Helper()
	n, ok := res.Files[key]
	if !ok {
		t.Fatalf("%s: no answer", key)
	}
	if n.Kind != imagefs.KindRegular {
		t.Fatalf("%s: kind %v, want regular", key, n.Kind)
	}
	if string(n.Content) != content {
		t.Errorf("%s: content %q, want %q", key, n.Content, content)
	}
	if n.RealPath != realPath {
		t.Errorf("%s: real path %q, want %q", key, n.RealPath, realPath)
	}
	if n.Layer.Index != index {
		t.Errorf("%s: from layer %d, want %d", key, n.Layer.Index, index)
	}
}

func globPaths(nodes []imagefs.Node) string {
	var ps []string
	for _, n := range nodes {
		ps = append(ps, n.Path+"="+string(n.Content))
	}
	return strings.Join(ps, ",")
}

func TestTopLayerWinsAndLowerLayersStayClosed(t *testing.T) {
	img, counter := it.Count(it.Image(t,
		it.FilesLayer(t, map[string]string{"etc/os-release": "old", "var/lib/dpkg/status": "old"}),
		it.FilesLayer(t, map[string]string{"usr/bin/app": "binary"}),
		it.FilesLayer(t, map[string]string{"etc/os-release": "new", "var/lib/dpkg/status": "new"}),
	))
	res := resolve(t, img, imagefs.Request{Files: []string{"etc/os-release", "/var/lib/dpkg/status"}})
	wantFile(t, res, "etc/os-release", "new", "etc/os-release", 2)
	wantFile(t, res, "/var/lib/dpkg/status", "new", "var/lib/dpkg/status", 2)
	if !res.Complete || len(res.LayersRead) != 1 || res.LayersRead[0].Index != 2 {
		t.Errorf("complete=%v layers read %v, want only the top layer", res.Complete, res.LayersRead)
	}
	if counter.Opened(0) != 0 || counter.Opened(1) != 0 || counter.Opened(2) != 1 {
		t.Errorf("opens: bottom %d middle %d top %d, want 0 0 1", counter.Opened(0), counter.Opened(1), counter.Opened(2))
	}
	if res.BytesRead == 0 {
		t.Error("BytesRead = 0")
	}
}

func TestWhiteoutDeletesFile(t *testing.T) {
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"lib/apk/db/installed": "P:busybox", "etc/alpine-release": "3.19.1"}),
		it.Layer(t, it.Whiteout("lib/apk/db/installed")),
	)
	res := resolve(t, img, imagefs.Request{Files: []string{"lib/apk/db/installed", "etc/alpine-release"}})
	if k := res.Files["lib/apk/db/installed"].Kind; k != imagefs.KindAbsent {
		t.Errorf("whited-out file: kind %v, want absent", k)
	}
	wantFile(t, res, "etc/alpine-release", "3.19.1", "etc/alpine-release", 0)
}

func TestWhiteoutOfParentDirectory(t *testing.T) {
	img, counter := it.Count(it.Image(t,
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": "x"}),
		it.Layer(t, it.Whiteout("var/lib/dpkg")),
	))
	res := resolve(t, img, imagefs.Request{Files: []string{"var/lib/dpkg/status"}, Globs: []string{"var/lib/dpkg/status.d/*"}})
	if k := res.Files["var/lib/dpkg/status"].Kind; k != imagefs.KindAbsent {
		t.Errorf("kind %v, want absent", k)
	}
	if len(res.Globs["var/lib/dpkg/status.d/*"]) != 0 {
		t.Errorf("glob = %v, want empty", res.Globs["var/lib/dpkg/status.d/*"])
	}
	if counter.Opened(0) != 0 {
		t.Error("the layer below a whited-out directory was opened")
	}
}

func TestOpaqueDirectoryHidesLowerGlobEntries(t *testing.T) {
	img, counter := it.Count(it.Image(t,
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status.d/old": "Package: old"}),
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status.d/mid": "Package: mid"}),
		it.Layer(t, it.Dir("var/lib/dpkg/status.d/"), it.Opaque("var/lib/dpkg/status.d"), it.File("var/lib/dpkg/status.d/new", "Package: new")),
	))
	res := resolve(t, img, imagefs.Request{Globs: []string{"var/lib/dpkg/status.d/*"}})
	if got := globPaths(res.Globs["var/lib/dpkg/status.d/*"]); got != "var/lib/dpkg/status.d/new=Package: new" {
		t.Errorf("glob = %s", got)
	}
	if counter.Opened(0)+counter.Opened(1) != 0 {
		t.Error("layers under an opaque directory were opened")
	}
}

func TestGlobMergesLayersAndHonoursWhiteouts(t *testing.T) {
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status.d/base": "b0", "var/lib/dpkg/status.d/gone": "g", "var/lib/dpkg/status.d/tzdata": "t0"}),
		it.Layer(t, it.File("var/lib/dpkg/status.d/libc6", "l1"), it.Whiteout("var/lib/dpkg/status.d/gone"), it.File("var/lib/dpkg/status.d/tzdata", "t1"), it.Dir("var/lib/dpkg/status.d/subdir/")),
		it.Layer(t, it.Symlink("var/lib/dpkg/status.d/alias", "libc6")),
	)
	res := resolve(t, img, imagefs.Request{Globs: []string{"var/lib/dpkg/status.d/*"}})
	got := globPaths(res.Globs["var/lib/dpkg/status.d/*"])
	want := "var/lib/dpkg/status.d/alias=l1,var/lib/dpkg/status.d/base=b0,var/lib/dpkg/status.d/libc6=l1,var/lib/dpkg/status.d/tzdata=t1"
	if got != want {
		t.Errorf("glob =\n %s\nwant\n %s", got, want)
	}
	for _, n := range res.Globs["var/lib/dpkg/status.d/*"] {
		if n.Path == "var/lib/dpkg/status.d/alias" && (n.RealPath != "var/lib/dpkg/status.d/libc6" || n.Layer.Index != 1) {
			t.Errorf("alias resolved to %s in layer %d", n.RealPath, n.Layer.Index)
		}
	}
}

func TestGlobDirectoryReplacedByFile(t *testing.T) {
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"etc/apt/sources.list.d/a.list": "deb x"}),
		it.Layer(t, it.File("etc/apt/sources.list.d", "not a dir")),
	)
	res := resolve(t, img, imagefs.Request{Globs: []string{"etc/apt/sources.list.d/*"}})
	if n := len(res.Globs["etc/apt/sources.list.d/*"]); n != 0 {
		t.Errorf("glob has %d entries, want 0", n)
	}
}

func TestDebianOSReleaseSymlink(t *testing.T) {
	img, counter := it.Count(it.Image(t,
		it.FilesLayer(t, map[string]string{"usr/lib/os-release": "ID=debian"}),
		it.Layer(t, it.Dir("etc/"), it.Symlink("etc/os-release", "../usr/lib/os-release")),
	))
	res := resolve(t, img, imagefs.Request{Files: []string{"etc/os-release"}, Stat: []string{"etc/os-release"}})
	wantFile(t, res, "etc/os-release", "ID=debian", "usr/lib/os-release", 0)
	st := res.Stats["etc/os-release"]
	if st.Kind != imagefs.KindSymlink || st.Target != "../usr/lib/os-release" || st.Layer.Index != 1 || st.Content != nil {
		t.Errorf("stat = %+v", st)
	}
	// The link is found in the top layer, its target in the bottom one; the
	// top layer is then read once more for the target path.
	if counter.Opened(0) != 1 || counter.Opened(1) != 2 {
		t.Errorf("opens: bottom %d, top %d; want 1, 2", counter.Opened(0), counter.Opened(1))
	}
}

func TestSymlinkTargetInUpperLayerIsFoundAfterwards(t *testing.T) {
	// The symlink lives in the middle layer, but its target's final version
	// is in the top layer, which was read before the link was known.
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"opt/release": "bottom"}),
		it.Layer(t, it.Symlink("etc/os-release", "/opt/release")),
		it.FilesLayer(t, map[string]string{"opt/release": "top", "other": "x"}),
	)
	res := resolve(t, img, imagefs.Request{Files: []string{"etc/os-release"}})
	wantFile(t, res, "etc/os-release", "top", "opt/release", 2)
}

func TestUsrMergedParentSymlink(t *testing.T) {
	img := it.Image(t,
		it.Layer(t, it.Symlink("lib", "usr/lib"), it.Dir("usr/"), it.Dir("usr/lib/"), it.Dir("usr/lib/apk/"), it.Dir("usr/lib/apk/db/"), it.File("usr/lib/apk/db/installed", "P:musl")),
	)
	res := resolve(t, img, imagefs.Request{Files: []string{"lib/apk/db/installed"}, Stat: []string{"lib", "lib/apk", "bin"}})
	wantFile(t, res, "lib/apk/db/installed", "P:musl", "usr/lib/apk/db/installed", 0)
	if st := res.Stats["lib"]; st.Kind != imagefs.KindSymlink || st.Target != "usr/lib" {
		t.Errorf("stat lib = %+v", st)
	}
	if st := res.Stats["lib/apk"]; st.Kind != imagefs.KindDir || st.RealPath != "usr/lib/apk" {
		t.Errorf("stat lib/apk = %+v", st)
	}
	if st := res.Stats["bin"]; st.Kind != imagefs.KindAbsent {
		t.Errorf("stat bin = %+v", st)
	}
}

func TestSymlinksStayInsideTheRoot(t *testing.T) {
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"etc/passwd": "image passwd", "etc/os-release": "ID=alpine"}),
		it.Layer(t,
			it.Symlink("climb", "../../../../../etc/passwd"),
			it.Symlink("abs", "/etc/passwd"),
			it.Symlink("hostetc", "/etc"),
			it.Symlink("dotdot", "../.."),
		),
	)
	res := resolve(t, img, imagefs.Request{Files: []string{"climb", "abs", "hostetc/os-release", "dotdot/etc/passwd"}, Stat: []string{"hostetc/os-release"}})
	wantFile(t, res, "climb", "image passwd", "etc/passwd", 0)
	wantFile(t, res, "abs", "image passwd", "etc/passwd", 0)
	wantFile(t, res, "hostetc/os-release", "ID=alpine", "etc/os-release", 0)
	wantFile(t, res, "dotdot/etc/passwd", "image passwd", "etc/passwd", 0)
	if st := res.Stats["hostetc/os-release"]; st.Kind != imagefs.KindRegular || st.RealPath != "etc/os-release" {
		t.Errorf("stat through /etc link = %+v", st)
	}
}

func TestBrokenAndLoopingSymlinks(t *testing.T) {
	img := it.Image(t, it.Layer(t,
		it.Symlink("a", "b"), it.Symlink("b", "a"),
		it.Symlink("dangling", "nowhere"),
		it.File("file", "x"), it.Symlink("through-file", "file/child"),
	))
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Resolve(context.Background(), imagefs.Request{Files: []string{"dangling", "through-file"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dangling", "through-file"} {
		if res.Files[k].Kind != imagefs.KindAbsent {
			t.Errorf("%s: kind %v, want absent", k, res.Files[k].Kind)
		}
	}
	if _, err := v.Resolve(context.Background(), imagefs.Request{Files: []string{"a"}}); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("loop: err = %v", err)
	}
}

func TestHardLinkedFile(t *testing.T) {
	img := it.Image(t, it.Layer(t,
		it.File("usr/lib/os-release", "ID=fedora"),
		it.Hardlink("etc/os-release", "usr/lib/os-release"),
	))
	res := resolve(t, img, imagefs.Request{Files: []string{"etc/os-release"}})
	wantFile(t, res, "etc/os-release", "ID=fedora", "etc/os-release", 0)
}

func TestImplicitParentsAndDuplicateEntries(t *testing.T) {
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"etc/debian_version": "11"}),
		it.Layer(t, it.File("etc/debian_version", "12.4"), it.File("etc/debian_version", "12.5")),
	)
	res := resolve(t, img, imagefs.Request{Files: []string{"etc/debian_version"}, Stat: []string{"etc"}})
	wantFile(t, res, "etc/debian_version", "12.5", "etc/debian_version", 1)
	if res.Stats["etc"].Kind != imagefs.KindDir {
		t.Errorf("implied parent: %v", res.Stats["etc"].Kind)
	}
}

func TestFileSizeCap(t *testing.T) {
	img := it.Image(t, it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": strings.Repeat("x", 100)}))
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Resolve(context.Background(), imagefs.Request{Files: []string{"var/lib/dpkg/status"}, MaxFileSize: 99})
	if err == nil || !strings.Contains(err.Error(), "var/lib/dpkg/status") || !strings.Contains(err.Error(), "limit") {
		t.Errorf("err = %v", err)
	}
}

func TestEnoughStopsEarly(t *testing.T) {
	img, counter := it.Count(it.Image(t,
		it.FilesLayer(t, map[string]string{"lib/apk/db/installed": "P:x"}),
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": "Package: a"}),
	))
	calls := 0
	res := resolve(t, img, imagefs.Request{
		Files: []string{"var/lib/dpkg/status", "lib/apk/db/installed"},
		Enough: func(r *imagefs.Result) bool {
			calls++
			return r.Files["var/lib/dpkg/status"].Kind == imagefs.KindRegular
		},
	})
	if res.Complete || res.Settled("lib/apk/db/installed") || !res.Settled("var/lib/dpkg/status") {
		t.Errorf("complete=%v", res.Complete)
	}
	if res.Files["lib/apk/db/installed"].Kind != imagefs.KindUnknown {
		t.Errorf("unsettled kind = %v", res.Files["lib/apk/db/installed"].Kind)
	}
	if counter.Opened(0) != 0 || calls != 2 {
		t.Errorf("bottom opened %d times, Enough called %d times", counter.Opened(0), calls)
	}
}

func TestContextCancelled(t *testing.T) {
	img := it.Image(t, it.FilesLayer(t, map[string]string{"a": "b"}))
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Resolve(ctx, imagefs.Request{Files: []string{"a"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestBadRequests(t *testing.T) {
	v, err := imagefs.Open(context.Background(), it.Image(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []imagefs.Request{
		{Files: []string{"../etc/passwd"}},
		{Globs: []string{"etc/*.conf"}},
		{Globs: []string{"/*"}},
	} {
		if _, err := v.Resolve(context.Background(), req); err == nil {
			t.Errorf("%+v: no error", req)
		}
	}
	res, err := v.Resolve(context.Background(), imagefs.Request{Files: []string{"etc/os-release"}, Stat: []string{"/"}})
	if err != nil || res.Files["etc/os-release"].Kind != imagefs.KindAbsent || res.Stats["/"].Kind != imagefs.KindDir {
		t.Errorf("empty image: %+v, %v", res, err)
	}
}

func TestGlobThroughSymlinkedDirectory(t *testing.T) {
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"usr/lib/dpkg/status.d/a": "A", "usr/lib/dpkg/status.d/b": "B0"}),
		it.FilesLayer(t, map[string]string{"usr/lib/dpkg/status.d/b": "B1"}),
		it.Layer(t, it.Dir("var/"), it.Dir("var/lib/"), it.Symlink("var/lib/dpkg", "../../usr/lib/dpkg")),
	)
	res := resolve(t, img, imagefs.Request{Globs: []string{"var/lib/dpkg/status.d/*"}})
	if got := globPaths(res.Globs["var/lib/dpkg/status.d/*"]); got != "usr/lib/dpkg/status.d/a=A,usr/lib/dpkg/status.d/b=B1" {
		t.Errorf("glob = %s", got)
	}
}

func TestContentWantedAfterStat(t *testing.T) {
	// usr/lib/os-release is first tracked for Stat only; the link found
	// later needs its content, so its layer is read again.
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"usr/lib/os-release": "ID=debian"}),
		it.Layer(t, it.Symlink("etc/os-release", "../usr/lib/os-release")),
	)
	res := resolve(t, img, imagefs.Request{Files: []string{"etc/os-release"}, Stat: []string{"usr/lib/os-release"}})
	wantFile(t, res, "etc/os-release", "ID=debian", "usr/lib/os-release", 0)
	if st := res.Stats["usr/lib/os-release"]; st.Kind != imagefs.KindRegular || st.Content != nil {
		t.Errorf("stat = %+v", st)
	}
}

func TestLayersListing(t *testing.T) {
	l0, l1 := it.FilesLayer(t, map[string]string{"a": "1"}), it.FilesLayer(t, map[string]string{"b": "2"})
	v, err := imagefs.Open(context.Background(), it.Image(t, l0, l1))
	if err != nil {
		t.Fatal(err)
	}
	ls := v.Layers()
	d0, _ := l0.Digest()
	id1, _ := l1.DiffID()
	if len(ls) != 2 || ls[0].Index != 0 || ls[0].Digest != d0 || ls[1].DiffID != id1 {
		t.Errorf("layers = %v", ls)
	}
	if s := ls[0].String(); s != "layer sha256:"+d0.Hex[:12] {
		t.Errorf("String = %q", s)
	}
	st, err := v.Stat(context.Background(), "a", "b", "c")
	if err != nil || st["a"].Kind != imagefs.KindRegular || st["a"].Layer.Index != 0 || st["c"].Kind != imagefs.KindAbsent {
		t.Errorf("stat = %+v, %v", st, err)
	}
	if v.Opened() != 2 {
		t.Errorf("opened = %d", v.Opened())
	}
}

package listfmt

import (
	"bytes"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/workflow"
)

var (
	scanAt  = time.Date(2024, 9, 13, 21, 5, 58, 841962000, time.UTC)
	patchAt = time.Date(2024, 9, 13, 21, 7, 32, 841962000, time.UTC)
)

func scan(s workflow.RunStatus) *workflow.Run {
	return &workflow.Run{ID: "dt21", Task: workflow.TaskScan, Status: s, CreatedAt: scanAt}
}

func patch(s workflow.RunStatus) *workflow.Run {
	return &workflow.Run{ID: "xyz2", Task: workflow.TaskPatch, Status: s, CreatedAt: patchAt}
}

func status(sc, pa *workflow.Run, last string) workflow.ImageStatus {
	return workflow.ImageStatus{Image: "import:dotnetapp-manual", WorkflowType: workflow.TypeContinuousPatchV1, Scan: sc, Patch: pa, LastPatchedImage: last}
}

const patched = "import:dotnetapp-manual-patched"

// The want blocks are copied from the reference's "Possible CLI Output
// Scenarios", in its order, byte for byte (trailing space included).
var referenceScenarios = []struct {
	name string
	in   workflow.ImageStatus
	want string
}{
	{"scan and patch successful", status(scan(workflow.StatusSucceeded), patch(workflow.StatusSucceeded), patched), `image: import:dotnetapp-manual
        scan status: Succeeded
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: Succeeded
        patch date: 2024-09-13 21:07:32.841962+00:00
        patch task ID: xyz2
        last patched image: import:dotnetapp-manual-patched
        workflow type: continuouspatchv1
`},
	{"patch failed, previous patched image", status(scan(workflow.StatusSucceeded), patch(workflow.StatusFailed), patched), `image: import:dotnetapp-manual
        scan status: Succeeded
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: Failed
        patch date: 2024-09-13 21:07:32.841962+00:00
        patch task ID: xyz2
        last patched image: import:dotnetapp-manual-patched
        workflow type: continuouspatchv1
`},
	{"patch failed, no patched image", status(scan(workflow.StatusSucceeded), patch(workflow.StatusFailed), ""), `image: import:dotnetapp-manual
        scan status: Succeeded
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: Failed
        patch date: 2024-09-13 21:07:32.841962+00:00
        patch task ID: xyz2
        last patched image: ---No patch image available---
        workflow type: continuouspatchv1
`},
	{"patch skipped, patched image", status(scan(workflow.StatusSucceeded), nil, patched), "image: import:dotnetapp-manual\n" +
		"        scan status: Succeeded\n" +
		"        scan date: 2024-09-13 21:05:58.841962+00:00\n" +
		"        scan task ID: dt21\n" +
		"        patch status: Skipped\n" +
		"        skipped patch reason: no vulnerability found in the image import:dotnetapp-manual image: \n" +
		"        patch date: ---Not Available---\n" +
		"        patch task ID: ---Not Available---\n" +
		"        last patched image: import:dotnetapp-manual-patched\n" +
		"        workflow type: continuouspatchv1\n"},
	{"patch skipped, no patched image", status(scan(workflow.StatusSucceeded), nil, ""), "image: import:dotnetapp-manual\n" +
		"        scan status: Succeeded\n" +
		"        scan date: 2024-09-13 21:05:58.841962+00:00\n" +
		"        scan task ID: dt21\n" +
		"        patch status: Skipped\n" +
		"        skipped patch reason: no vulnerability found in the image import:dotnetapp-manual image: \n" +
		"        patch date: ---Not Available---\n" +
		"        patch task ID: ---Not Available---\n" +
		"        last patched image: ---Not Available---\n" +
		"        workflow type: continuouspatchv1\n"},
	{"scan failed, patched image", status(scan(workflow.StatusFailed), nil, patched), `image: import:dotnetapp-manual
        scan status: Failed
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: ---Not Available---
        patch date: ---Not Available---
        patch task ID: ---Not Available---
        last patched image: import:dotnetapp-manual-patched
        workflow type: continuouspatchv1
`},
	{"scan failed, no patched image", status(scan(workflow.StatusFailed), nil, ""), `image: import:dotnetapp-manual
        scan status: Failed
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: ---Not Available---
        patch date: ---Not Available---
        patch task ID: ---Not Available---
        last patched image: ---Not Available---
        workflow type: continuouspatchv1
`},
	{"scan running, patched image", status(scan(workflow.StatusRunning), nil, patched), `image: import:dotnetapp-manual
        scan status: Running
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: ---Not Available---
        patch date: ---Not Available---
        patch task ID: ---Not Available---
        last patched image: import:dotnetapp-manual-patched
        workflow type: continuouspatchv1
`},
	{"scan running, no patched image", status(scan(workflow.StatusRunning), nil, ""), `image: import:dotnetapp-manual
        scan status: Running
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: ---Not Available---
        patch date: ---Not Available---
        patch task ID: ---Not Available---
        last patched image: ---Not Available---
        workflow type: continuouspatchv1
`},
	{"patch running, patched image", status(scan(workflow.StatusSucceeded), patch(workflow.StatusRunning), patched), `image: import:dotnetapp-manual
        scan status: Succeeded
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: Running
        patch date: 2024-09-13 21:07:32.841962+00:00
        patch task ID: xyz2
        last patched image: import:dotnetapp-manual-patched
        workflow type: continuouspatchv1
`},
	{"patch running, no patched image", status(scan(workflow.StatusSucceeded), patch(workflow.StatusRunning), ""), `image: import:dotnetapp-manual
        scan status: Succeeded
        scan date: 2024-09-13 21:05:58.841962+00:00
        scan task ID: dt21
        patch status: Running
        patch date: 2024-09-13 21:07:32.841962+00:00
        patch task ID: xyz2
        last patched image: ---Not Available---
        workflow type: continuouspatchv1
`},
}

func TestReferenceScenarios(t *testing.T) {
	for _, c := range referenceScenarios {
		if got := Block(c.in); got != c.want {
			t.Errorf("%s:\ngot:\n%q\nwant:\n%q", c.name, got, c.want)
		}
	}
}

func TestWriteConcatenatesBlocks(t *testing.T) {
	var b bytes.Buffer
	in := []workflow.ImageStatus{referenceScenarios[0].in, referenceScenarios[6].in}
	if err := Write(&b, in); err != nil {
		t.Fatal(err)
	}
	if want := referenceScenarios[0].want + referenceScenarios[6].want; b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestBeyondReference(t *testing.T) {
	failedScan := scan(workflow.StatusFailed)
	failedScan.Error = "pull import:dotnetapp-manual: 401 Unauthorized\nretry later"
	failedPatch := patch(workflow.StatusFailed)
	failedPatch.Error = "no fixed version of openssl in the image's APT sources"
	startedPatch := patch(workflow.StatusStarted)
	skippedRun := patch(workflow.StatusSkipped)
	eosl := status(scan(workflow.StatusSucceeded), nil, "")
	eosl.SkippedReason = "EOSL is true for image import:dotnetapp-manual"
	eoslScan := status(scan(workflow.StatusSkipped), nil, "")
	eoslScan.Scan.Result.SkippedReason = "EOSL is true for image import:dotnetapp-manual"
	signedPatch := patch(workflow.StatusSucceeded)
	signedPatch.Result.Signed = []string{"cosign", "notation"}
	already := status(scan(workflow.StatusSucceeded), nil, "")
	already.SkippedReason = "no vulnerability found in the image import:dotnetapp-manual image: "
	cases := []struct {
		name string
		in   workflow.ImageStatus
		want []string // lines the block must hold
	}{
		{"scan failure reason", status(failedScan, nil, ""), []string{
			"        scan status: Failed\n        scan failure reason: pull import:dotnetapp-manual: 401 Unauthorized; retry later\n        scan date: "}},
		{"patch failure reason", status(scan(workflow.StatusSucceeded), failedPatch, ""), []string{
			"        patch status: Failed\n        patch failure reason: no fixed version of openssl in the image's APT sources\n        patch date: 2024-09-13 21:07:32.841962+00:00\n",
			"        last patched image: ---No patch image available---\n"}},
		{"signed", status(scan(workflow.StatusSucceeded), signedPatch, patched), []string{
			"        last patched image: " + patched + "\n        signed: cosign, notation\n        workflow type: "}},
		{"started is running", status(scan(workflow.StatusSucceeded), startedPatch, ""), []string{"        patch status: Running\n"}},
		{"skipped patch run", status(scan(workflow.StatusSucceeded), skippedRun, ""), []string{
			"        patch status: Skipped\n", "        patch task ID: ---Not Available---\n"}},
		{"engine reason", eosl, []string{"        skipped patch reason: EOSL is true for image import:dotnetapp-manual image: \n"}},
		{"reason with the field already", already, []string{"        skipped patch reason: no vulnerability found in the image import:dotnetapp-manual image: \n"}},
		{"skipped scan", eoslScan, []string{
			"        scan status: Skipped\n", "        patch status: Skipped\n        skipped patch reason: EOSL is true for image import:dotnetapp-manual image: \n"}},
		{"no scan yet", status(nil, nil, ""), []string{
			"        scan status: ---Not Available---\n        scan date: ---Not Available---\n        scan task ID: ---Not Available---\n        patch status: ---Not Available---\n"}},
	}
	for _, c := range cases {
		got := Block(c.in)
		for _, w := range c.want {
			if !bytes.Contains([]byte(got), []byte(w)) {
				t.Errorf("%s: block lacks %q:\n%s", c.name, w, got)
			}
		}
	}
}

func TestPythonTime(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2024, 9, 13, 21, 5, 58, 841962000, time.UTC):                     "2024-09-13 21:05:58.841962+00:00",
		time.Date(2024, 9, 13, 21, 5, 58, 0, time.UTC):                             "2024-09-13 21:05:58+00:00",
		time.Date(2024, 9, 13, 21, 5, 58, 999, time.UTC):                           "2024-09-13 21:05:58+00:00",
		time.Date(2024, 9, 13, 21, 5, 58, 1000, time.UTC):                          "2024-09-13 21:05:58.000001+00:00",
		time.Date(2024, 9, 13, 23, 5, 58, 500000000, time.FixedZone("CEST", 7200)): "2024-09-13 21:05:58.500000+00:00",
	}
	for in, want := range cases {
		if got := PythonTime(in); got != want {
			t.Errorf("PythonTime(%v) = %q, want %q", in, got, want)
		}
	}
}

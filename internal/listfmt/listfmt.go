// Package listfmt writes the text of `patchloop workflow list`: one block per
// image, byte for byte in the reference's format, so scripts written against
// the reference's output keep working.
package listfmt

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/workflow"
)

// Placeholders the reference prints where a value does not exist.
const (
	// NotAvailable stands for a date, task ID, status or image that does
	// not exist (for example the patch of an image whose scan failed).
	NotAvailable = "---Not Available---"
	// NoPatchImage is the last patched image of an image whose patch
	// failed before any patched image was ever published.
	NoPatchImage = "---No patch image available---"
)

// indent starts every line of a block after the first, as in the reference.
const indent = "        "

// skippedSuffix ends every "skipped patch reason:" line.
//
// The reference prints
//
//	skipped patch reason: no vulnerability found in the image import:dotnetapp-manual image:
//
// with " image: " and nothing after it: the az extension scrapes the reason
// from its task log, and the log line carries an empty trailing field (the
// image the patch would have produced, of which there is none when the patch
// is skipped). We reproduce it exactly, trailing space included, so output
// stays byte-identical with the reference and with scripts that match it;
// a reason that already ends in that field is not given it twice.
const skippedSuffix = " image: "

// Write writes one block per image, in the order given.
func Write(w io.Writer, images []workflow.ImageStatus) error {
	for _, st := range images {
		if _, err := io.WriteString(w, Block(st)); err != nil {
			return fmt.Errorf("write workflow list: %w", err)
		}
	}
	return nil
}

// Block returns the block of one image, ending in a newline.
func Block(st workflow.ImageStatus) string {
	var b strings.Builder
	line := func(label, value string) {
		b.WriteString(indent + label + ": " + value + "\n")
	}
	scanStatus := runStatus(st.Scan)
	patchStatus, patch := patchOf(st, scanStatus)

	b.WriteString("image: " + st.Image + "\n")
	line("scan status", scanStatus)
	if st.Scan != nil && scanStatus == string(workflow.StatusFailed) && st.Scan.Error != "" {
		line("scan failure reason", oneLine(st.Scan.Error))
	}
	line("scan date", runDate(st.Scan))
	line("scan task ID", runID(st.Scan))
	line("patch status", patchStatus)
	switch patchStatus {
	case string(workflow.StatusFailed):
		if patch != nil && patch.Error != "" {
			line("patch failure reason", oneLine(patch.Error))
		}
	case string(workflow.StatusSkipped):
		line("skipped patch reason", skippedReason(st))
	}
	line("patch date", runDate(patch))
	line("patch task ID", runID(patch))
	line("last patched image", lastPatched(st, patchStatus))
	// Patchloop's own line, only when the patch was signed (serve
	// --cosign-key, --notation-key), so the block stays the reference's
	// otherwise.
	if patch != nil && len(patch.Result.Signed) > 0 {
		line("signed", strings.Join(patch.Result.Signed, ", "))
	}
	typ := st.WorkflowType
	if typ == "" {
		typ = workflow.TypeContinuousPatchV1
	}
	line("workflow type", typ)
	return b.String()
}

// patchOf returns the patch status to print and the patch run whose date
// and ID go with it (nil when they are not available). A patch only
// belongs to the block when the scan before it succeeded; a succeeded scan
// without a patch run means the patch was skipped, and so does a skipped
// scan (an image past its end of life, for example).
func patchOf(st workflow.ImageStatus, scanStatus string) (string, *workflow.Run) {
	switch scanStatus {
	case string(workflow.StatusSkipped):
		return string(workflow.StatusSkipped), nil
	case string(workflow.StatusSucceeded):
	default:
		return NotAvailable, nil
	}
	if st.Patch == nil || st.Patch.Status == workflow.StatusSkipped {
		return string(workflow.StatusSkipped), nil
	}
	return runStatus(st.Patch), st.Patch
}

// runStatus is the status the reference shows for a run: Started counts as
// Running.
func runStatus(r *workflow.Run) string {
	switch {
	case r == nil || r.Status == "":
		return NotAvailable
	case r.Status == workflow.StatusStarted:
		return string(workflow.StatusRunning)
	}
	return string(r.Status)
}

func runDate(r *workflow.Run) string {
	if r == nil || r.CreatedAt.IsZero() {
		return NotAvailable
	}
	return PythonTime(r.CreatedAt)
}

func runID(r *workflow.Run) string {
	if r == nil || r.ID == "" {
		return NotAvailable
	}
	return r.ID
}

func skippedReason(st workflow.ImageStatus) string {
	reason := st.SkippedReason
	if reason == "" && st.Patch != nil {
		reason = st.Patch.Result.SkippedReason
	}
	if reason == "" && st.Scan != nil {
		reason = st.Scan.Result.SkippedReason
	}
	if reason == "" {
		reason = "no vulnerability found in the image " + st.Image
	}
	reason = strings.TrimSuffix(oneLine(reason), strings.TrimSpace(skippedSuffix))
	return strings.TrimRight(reason, " ") + skippedSuffix
}

// TriggerBlock returns the block of a failed cycle trigger (for example a
// config that selects more images than the limit, or a config artifact
// that is missing or invalid), in the style of the image blocks. The
// reference has no such block: it shows a failed trigger only in its task
// runs; Patchloop prints it first so that a cycle that listed no image is
// not mistaken for a quiet one.
func TriggerBlock(r *workflow.Run) string {
	var b strings.Builder
	line := func(label, value string) {
		b.WriteString(indent + label + ": " + value + "\n")
	}
	b.WriteString("trigger: " + workflow.TaskTrigger + "\n")
	line("trigger status", runStatus(r))
	if r != nil && r.Error != "" {
		line("trigger failure reason", oneLine(r.Error))
	}
	line("trigger date", runDate(r))
	line("trigger task ID", runID(r))
	typ := workflow.TypeContinuousPatchV1
	if r != nil && r.Type != "" {
		typ = r.Type
	}
	line("workflow type", typ)
	return b.String()
}

func lastPatched(st workflow.ImageStatus, patchStatus string) string {
	switch {
	case st.LastPatchedImage != "":
		return st.LastPatchedImage
	case patchStatus == string(workflow.StatusFailed):
		return NoPatchImage
	}
	return NotAvailable
}

// oneLine keeps a multi-line message on its block's line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "; ")
}

// PythonTime formats t in UTC as Python's str() of an aware datetime does,
// for example 2024-09-13 21:05:58.841962+00:00: microseconds, left out when
// they are zero.
func PythonTime(t time.Time) string {
	t = t.UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04:05") + "+00:00"
	}
	return t.Format("2006-01-02 15:04:05.000000") + "+00:00"
}

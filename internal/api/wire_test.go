package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/api"
)

// TestWireFormat pins the JSON of the API's types, field names and order
// included, as docs/api.md describes them: clients of other languages
// depend on it.
func TestWireFormat(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	started := at.Add(time.Second)
	cases := []struct {
		v    any
		want string
	}{
		{api.Workflow{Registry: "localhost:5000", Type: api.TypeContinuousPatchV1, ScheduleText: "1d", TagConvention: "incremental",
			Config: json.RawMessage(`{"version":"v1"}`), ConfigDigest: "sha256:ab", CreatedAt: at, CreatedBy: "alice", UpdatedAt: at, UpdatedBy: "bob", Anchor: at, NextRunAt: at},
			`{"registry":"localhost:5000","type":"continuouspatchv1","schedule":"1d","tagConvention":"incremental","config":{"version":"v1"},"configDigest":"sha256:ab","createdAt":"2026-01-02T03:04:05Z","createdBy":"alice","updatedAt":"2026-01-02T03:04:05Z","updatedBy":"bob","anchor":"2026-01-02T03:04:05Z","nextRunAt":"2026-01-02T03:04:05Z"}`},
		{api.CreateRequest{Registry: "r", Type: "t", ConfigName: "c.json", Config: []byte("{}"), Schedule: "1d", RunImmediately: true, By: "me"},
			`{"registry":"r","type":"t","configName":"c.json","config":"e30=","schedule":"1d","runImmediately":true,"by":"me"}`},
		{api.UpdateRequest{Registry: "r", Type: "t", By: "me"},
			`{"registry":"r","type":"t","runImmediately":false,"by":"me"}`},
		{api.DeleteResult{}, `{}`},
		{api.Run{ID: "ab12cd", Task: api.TaskScan, Registry: "r", Type: "t", Cycle: 2, Image: "app:1", Status: api.StatusSucceeded, CreatedAt: at, StartedAt: &started,
			Result: api.RunResult{ScannedImage: "app:1", Vulnerabilities: 3, Fixable: 1, Severities: map[string]int{"HIGH": 1}}},
			`{"id":"ab12cd","task":"cssc-scan-image","registry":"r","type":"t","cycle":2,"image":"app:1","status":"Succeeded","createdAt":"2026-01-02T03:04:05Z","startedAt":"2026-01-02T03:04:06Z","result":{"scannedImage":"app:1","vulnerabilities":3,"fixable":1,"severities":{"HIGH":1}}}`},
		{api.RunResult{Severities: map[string]int{}}, `{"severities":{}}`},
		{api.ImageStatus{Image: "app:1", WorkflowType: "t", LastPatchedImage: "app:1-1"},
			`{"image":"app:1","workflowType":"t","lastPatchedImage":"app:1-1"}`},
		{api.RunFilter{Registry: "r"}, `{"registry":"r"}`},
		{api.CancelResponse{Canceled: 2}, `{"canceled":2}`},
		{api.Health{Status: "ok"}, `{"status":"ok"}`},
		{api.ErrorResponse{Error: "no", Code: api.CodeNotFound}, `{"error":"no","code":"not_found"}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%T:\n got %s\nwant %s", c.v, got, c.want)
		}
	}
}

// TestCodes checks that every sentinel error survives the trip through its
// code, and that an error wrapping one finds it.
func TestCodes(t *testing.T) {
	for _, err := range []error{api.ErrNotFound, api.ErrExists, api.ErrRunNotFound, api.ErrInvalidInput, api.ErrTooManyImages} {
		code, sentinel := api.Code(err)
		if code == "" || sentinel != err || api.Sentinel(code) != err {
			t.Errorf("%v: code %q, sentinel %v, back %v", err, code, sentinel, api.Sentinel(code))
		}
	}
	if code, _ := api.Code(nil); code != "" {
		t.Errorf("nil has code %q", code)
	}
	if api.Sentinel(api.CodeTooLarge) != api.ErrInvalidInput || api.Sentinel(api.CodeInternal) != nil {
		t.Error("too_large is invalid input; internal has no sentinel")
	}
}

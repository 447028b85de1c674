package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/api"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// pageData is what the layout needs on every page.
type pageData struct {
	Title    string
	LoggedIn bool
	CSRF     string
	Notice   string
	// Live asks the page's script to refresh it: something shown is
	// still queued or running.
	Live bool
}

func (d *Dashboard) pageData(r *http.Request, title string) pageData {
	sess := d.session(r)
	p := pageData{Title: title, LoggedIn: sess != "", Notice: r.URL.Query().Get("notice")}
	if sess != "" {
		p.CSRF = d.csrfToken(sess)
	}
	return p
}

// severities is the order counts are shown in.
var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}

// Counts is a vulnerability count by severity, as shown in a table cell.
type Counts struct {
	Known bool
	Total int
	By    []SeverityCount
}

// SeverityCount is one severity's count.
type SeverityCount struct {
	Severity string
	Count    int
}

func counts(m map[string]int) Counts {
	if m == nil {
		return Counts{}
	}
	c := Counts{Known: true}
	for _, s := range severities {
		c.Total += m[s]
		if m[s] > 0 {
			c.By = append(c.By, SeverityCount{Severity: s, Count: m[s]})
		}
	}
	return c
}

// imageRow is one image of a workflow.
type imageRow struct {
	api.ImageStatus
	Before, After Counts
	// Why says why the latest run failed, or why the patch was skipped.
	Why string
	// Signed lists the signature schemes of the latest patched image
	// ("cosign, notation"); empty when it was not signed.
	Signed string
}

func newImageRow(st api.ImageStatus) imageRow {
	row := imageRow{ImageStatus: st}
	scan, patch := st.Scan, st.Patch
	switch {
	case patch != nil && patch.Status == api.StatusSucceeded:
		row.Before, row.After = counts(patch.Result.Severities), counts(patch.Result.SeveritiesAfter)
		row.Signed = strings.Join(patch.Result.Signed, ", ")
	case scan != nil:
		row.Before = counts(scan.Result.Severities)
		if st.SkippedReason != "" && (patch == nil || patch.Status == api.StatusSkipped) {
			row.After = row.Before // nothing was patched: what was found is what is left
		}
	}
	switch {
	case patch != nil && patch.Error != "":
		row.Why = "patch: " + patch.Error
	case scan != nil && scan.Error != "":
		row.Why = "scan: " + scan.Error
	default:
		row.Why = st.SkippedReason
	}
	return row
}

// workflowView is one workflow with its images and latest cycle.
type workflowView struct {
	api.Workflow
	ConfigText string
	Trigger    *api.Run // the latest cycle's trigger run
	Images     []imageRow
	Error      string // why the images could not be listed
}

// overviewPage is the data of the overview.
type overviewPage struct {
	pageData
	Workflows []workflowView
	// VulnDB describes the vulnerability database; empty when unknown.
	VulnDB string
}

// vulnDBText says how old the vulnerability database is.
func (d *Dashboard) vulnDBText() string {
	if d.opts.VulnDBDir == "" {
		return ""
	}
	meta, err := vulndb.ReadMetadata(d.opts.VulnDBDir)
	if err != nil {
		return "not downloaded: scans fail until `patchloop db update` installs it"
	}
	if meta.UpdatedAt.IsZero() {
		return "installed; its metadata.json does not say when it was built"
	}
	return fmt.Sprintf("built %s, %s ago", meta.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC"), humanAge(d.opts.Now().Sub(meta.UpdatedAt)))
}

// humanAge rounds an age to what a reader needs: minutes, hours or days.
func humanAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	wfs, err := d.svc.Workflows(ctx)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	page := overviewPage{pageData: d.pageData(r, "Workflows"), VulnDB: d.vulnDBText()}
	for _, wf := range wfs {
		v := workflowView{Workflow: wf, ConfigText: indentJSON(wf.Config)}
		page.Live = page.Live || !wf.NextRunAt.After(d.opts.Now()) // a cycle is due: it starts soon
		triggers, err := d.svc.Runs(ctx, api.RunFilter{Registry: wf.Registry, Task: api.TaskTrigger, Top: 1})
		if err == nil && len(triggers) > 0 {
			v.Trigger = &triggers[0]
			page.Live = page.Live || open(v.Trigger)
		}
		images, err := d.svc.Images(ctx, wf.Registry, "")
		if err != nil {
			v.Error = err.Error()
		}
		for _, st := range images {
			v.Images = append(v.Images, newImageRow(st))
			page.Live = page.Live || open(st.Scan) || open(st.Patch)
		}
		page.Workflows = append(page.Workflows, v)
	}
	d.render(w, r, http.StatusOK, "overview", page)
}

// open reports whether a run is still queued or running.
func open(r *api.Run) bool {
	return r != nil && slices.Contains([]api.RunStatus{api.StatusQueued, api.StatusStarted, api.StatusRunning}, r.Status)
}

func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// runsPage is the data of the runs table.
type runsPage struct {
	pageData
	Registries []string
	Filter     api.RunFilter
	Tasks      []string
	Statuses   []api.RunStatus
	Runs       []api.Run
}

func (d *Dashboard) runs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	wfs, err := d.svc.Workflows(ctx)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	page := runsPage{
		pageData: d.pageData(r, "Runs"),
		Filter:   api.RunFilter{Registry: q.Get("registry"), Task: q.Get("task"), Status: api.RunStatus(q.Get("status")), Top: 200},
		Tasks:    []string{api.TaskTrigger, api.TaskScan, api.TaskPatch},
		Statuses: []api.RunStatus{api.StatusQueued, api.StatusStarted, api.StatusRunning,
			api.StatusSucceeded, api.StatusFailed, api.StatusCanceled, api.StatusSkipped},
	}
	for _, wf := range wfs {
		if !slices.Contains(page.Registries, wf.Registry) {
			page.Registries = append(page.Registries, wf.Registry)
		}
	}
	regs := page.Registries
	if page.Filter.Registry != "" {
		regs = []string{page.Filter.Registry}
	}
	for _, reg := range regs {
		f := page.Filter
		f.Registry = reg
		runs, err := d.svc.Runs(ctx, f)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		page.Runs = append(page.Runs, runs...)
	}
	slices.SortStableFunc(page.Runs, func(a, b api.Run) int { return b.CreatedAt.Compare(a.CreatedAt) })
	for i := range page.Runs {
		page.Live = page.Live || open(&page.Runs[i])
	}
	d.render(w, r, http.StatusOK, "runs", page)
}

// runPage is the data of one run's page.
type runPage struct {
	pageData
	ID  string
	Run *api.Run // nil when the registry is not known
	Log string
}

func (d *Dashboard) run(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	log, err := d.svc.RunLog(ctx, id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	page := runPage{pageData: d.pageData(r, "Run "+id), ID: id, Log: log}
	if reg := r.URL.Query().Get("registry"); reg != "" {
		runs, err := d.svc.Runs(ctx, api.RunFilter{Registry: reg})
		if err == nil {
			for i := range runs {
				if runs[i].ID == id {
					page.Run = &runs[i]
					break
				}
			}
		}
	}
	page.Live = open(page.Run)
	d.render(w, r, http.StatusOK, "run", page)
}

// runNow starts a cycle at once: the schedule counts from now.
func (d *Dashboard) runNow(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reg := r.PathValue("registry")
	wf, err := d.svc.Get(ctx, reg, api.TypeContinuousPatchV1)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if _, err := d.svc.Update(ctx, api.UpdateRequest{Registry: reg, Type: wf.Type, Schedule: wf.ScheduleText,
		RunImmediately: true, By: "dashboard"}); err != nil {
		d.fail(w, r, err)
		return
	}
	redirectNotice(w, r, "A cycle of "+reg+" starts now.")
}

func (d *Dashboard) cancel(w http.ResponseWriter, r *http.Request) {
	reg := r.PathValue("registry")
	n, err := d.svc.CancelRuns(r.Context(), reg, api.TypeContinuousPatchV1)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	redirectNotice(w, r, fmt.Sprintf("Canceled %d run(s) of %s.", n, reg))
}

func redirectNotice(w http.ResponseWriter, r *http.Request, msg string) {
	http.Redirect(w, r, "/?notice="+url.QueryEscape(msg), http.StatusSeeOther)
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"time": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if t == nil || t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return "—"
	},
	"duration": func(r api.Run) string {
		if r.StartedAt == nil || r.FinishedAt == nil {
			return "—"
		}
		return r.FinishedAt.Sub(*r.StartedAt).Round(time.Millisecond).String()
	},
	"statusClass": func(s api.RunStatus) string { return "st-" + strings.ToLower(string(s)) },
	"sevClass":    func(s string) string { return "sev-" + strings.ToLower(s) },
	"short":       func(s string) string { return strings.TrimPrefix(s, "cssc-") },
	"runURL": func(r api.Run) string {
		return "/runs/" + url.PathEscape(r.ID) + "?registry=" + url.QueryEscape(r.Registry)
	},
	"workflowURL": func(registry, action string) string {
		return "/workflows/" + url.PathEscape(registry) + "/" + action
	},
}

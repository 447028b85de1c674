// Package dashboard is Patchloop's web dashboard: server-rendered pages over
// a api.Service showing every workflow, the scan and patch status of
// each image, the runs with their logs, and the two actions (run now,
// cancel the running cycle).
//
// The pages are Go templates and a small script embedded in the binary.
// The API token, entered once in a login form, opens a session kept in an
// HttpOnly, SameSite=Strict cookie; every form carries a CSRF token bound
// to the session. Pages with unfinished runs refresh themselves.
package dashboard

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/api"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultSessionLifetime is how long a login lasts.
const DefaultSessionLifetime = 12 * time.Hour

// Options configure a Dashboard.
type Options struct {
	// Logger receives internal errors (default slog.Default()). Tokens
	// and cookies are never logged.
	Logger *slog.Logger
	// SessionLifetime is how long a login lasts (default
	// DefaultSessionLifetime).
	SessionLifetime time.Duration
	// Now is the clock sessions expire by (default time.Now).
	Now func() time.Time
	// VulnDBDir, when set, is the vulnerability database directory whose
	// age the overview shows.
	VulnDBDir string
	// Queue, when set, is River's own UI (riverui, built with the prefix
	// QueuePath), served under QueuePath to logged-in users only.
	Queue http.Handler
}

// QueuePath is where the queue view is mounted.
const QueuePath = "/river"

// Dashboard serves the web pages. Mount it at "/" beside the API.
type Dashboard struct {
	svc   api.Service
	token []byte
	opts  Options
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns a Dashboard over svc for users who know token, the API token.
func New(svc api.Service, token string, opts Options) (*Dashboard, error) {
	if svc == nil {
		return nil, errors.New("dashboard: no workflow service")
	}
	if token == "" {
		return nil, errors.New("dashboard: no API token")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SessionLifetime <= 0 {
		opts.SessionLifetime = DefaultSessionLifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dashboard{svc: svc, token: []byte(token), opts: opts, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	for _, page := range []string{"login", "overview", "runs", "run", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", page, err)
		}
		d.pages[page] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	d.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	d.mux.HandleFunc("GET /login", d.loginPage)
	d.mux.HandleFunc("POST /login", d.login)
	d.mux.Handle("POST /logout", d.authenticated(http.HandlerFunc(d.logout)))
	d.mux.Handle("GET /{$}", d.authenticated(http.HandlerFunc(d.overview)))
	d.mux.Handle("GET /runs", d.authenticated(http.HandlerFunc(d.runs)))
	d.mux.Handle("GET /runs/{id}", d.authenticated(http.HandlerFunc(d.run)))
	d.mux.Handle("POST /workflows/{registry}/run", d.authenticated(http.HandlerFunc(d.runNow)))
	d.mux.Handle("POST /workflows/{registry}/cancel", d.authenticated(http.HandlerFunc(d.cancel)))
	queue := opts.Queue
	if queue == nil {
		queue = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d.renderError(w, r, http.StatusNotFound, "The queue view is not available in this service.")
		})
	}
	d.mux.Handle(QueuePath+"/", d.loggedIn(queue))
	d.mux.Handle(QueuePath, http.RedirectHandler(QueuePath+"/", http.StatusSeeOther))
	d.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d.renderError(w, r, http.StatusNotFound, "No page "+r.URL.Path+".")
	})
	return d, nil
}

// ServeHTTP serves one dashboard request.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if !strings.HasPrefix(r.URL.Path, QueuePath+"/") {
		// River's UI brings its own scripts and styles; the dashboard's
		// pages allow only their own.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	d.mux.ServeHTTP(w, r)
}

// cacheStatic lets browsers keep the script and stylesheet for an hour.
func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// render writes a page; data must carry the fields the layout uses.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := d.pages[page].Execute(w, data); err != nil {
		d.opts.Logger.ErrorContext(r.Context(), "dashboard: render page", "page", page, "err", err)
	}
}

// errorPage is the data of the error page.
type errorPage struct {
	pageData
	Status  int
	Message string
}

func (d *Dashboard) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d.render(w, r, status, "error", errorPage{pageData: d.pageData(r, "Error"), Status: status, Message: msg})
}

// fail shows an error of the service: not-found and bad-input errors with
// their message, others logged and shown with their message too (the user
// is the service's operator).
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, api.ErrNotFound), errors.Is(err, api.ErrRunNotFound):
		status = http.StatusNotFound
	case errors.Is(err, api.ErrInvalidInput):
		status = http.StatusBadRequest
	default:
		d.opts.Logger.ErrorContext(r.Context(), "dashboard request failed", "path", r.URL.Path, "err", err)
	}
	d.renderError(w, r, status, err.Error())
}

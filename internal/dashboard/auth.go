package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cookie names.
const (
	// SessionCookie holds the login: expiry and a MAC of it keyed by the
	// API token, so changing the token ends every session.
	SessionCookie = "patchloop_session"
	// LoginCSRFCookie holds the login form's CSRF token (double submit).
	LoginCSRFCookie = "patchloop_login_csrf"
	// CSRFField is the form field every POST must carry.
	CSRFField = "csrf"
)

// mac is HMAC-SHA256 over parts, keyed by the API token.
func (d *Dashboard) mac(parts ...string) string {
	m := hmac.New(sha256.New, d.token)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession returns a session cookie value valid until exp.
func (d *Dashboard) newSession(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + d.mac("session", e)
}

// session returns the request's valid session value, or "".
func (d *Dashboard) session(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	e, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return ""
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(d.mac("session", e))) || d.opts.Now().Unix() >= exp {
		return ""
	}
	return c.Value
}

// csrfToken is the CSRF token of a session.
func (d *Dashboard) csrfToken(session string) string { return d.mac("csrf", session) }

// sameOrigin rejects a request whose Origin header (sent by browsers on
// POST) names another site.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// authenticated lets a request through with a valid session: GETs without
// one go to the login page, POSTs get 403. POSTs must carry the session's
// CSRF token and come from this origin.
func (d *Dashboard) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := d.session(r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if sess == "" {
				d.renderError(w, r, http.StatusForbidden, "Your session has ended: log in again.")
				return
			}
			got := r.PostFormValue(CSRFField)
			if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(got), []byte(d.csrfToken(sess))) != 1 {
				d.renderError(w, r, http.StatusForbidden, "The form's CSRF token is missing or wrong: reload the page and try again.")
				return
			}
		} else if sess == "" {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loginPageData is the data of the login page.
type loginPageData struct {
	pageData
	Next  string
	Error string
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	d.showLogin(w, r, http.StatusOK, "")
}

// showLogin renders the login form with a fresh double-submit CSRF token.
func (d *Dashboard) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: LoginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	data := loginPageData{pageData: d.pageData(r, "Log in"), Next: safeNext(r.FormValue("next")), Error: msg}
	data.CSRF = tok
	d.render(w, r, status, "login", data)
}

// safeNext keeps a post-login destination only when it is a path on this
// site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(LoginCSRFCookie)
	if err != nil || !sameOrigin(r) || c.Value == "" ||
		subtle.ConstantTimeCompare([]byte(r.PostFormValue(CSRFField)), []byte(c.Value)) != 1 {
		d.renderError(w, r, http.StatusForbidden, "The login form's CSRF token is missing or wrong: open the login page again.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if subtle.ConstantTimeCompare([]byte(token), d.token) != 1 {
		d.showLogin(w, r, http.StatusUnauthorized, "Wrong API token. The service keeps it in <data-dir>/token.")
		return
	}
	exp := d.opts.Now().Add(d.opts.SessionLifetime)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: d.newSession(exp), Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, Expires: exp, MaxAge: int(d.opts.SessionLifetime.Seconds())})
	http.SetCookie(w, &http.Cookie{Name: LoginCSRFCookie, Path: "/login", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// loggedIn lets a request to the queue view through with a valid session:
// page loads without one go to the login page, its API calls get 401.
// Its API calls that change something (retry, cancel, delete jobs) must
// come from this origin; River's UI sends no dashboard CSRF token, and the
// session cookie (SameSite=Strict) is not sent by other sites.
func (d *Dashboard) loggedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		get := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case d.session(r) == "" && get && !strings.HasPrefix(r.URL.Path, QueuePath+"/api/"):
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case d.session(r) == "":
			http.Error(w, "log in to the dashboard first", http.StatusUnauthorized)
		case !get && !sameOrigin(r):
			http.Error(w, "request from another site", http.StatusForbidden)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

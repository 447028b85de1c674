package registry

import (
	"fmt"
	"net/http"
)

// MaxRedirects bounds the redirects followed for one request.
// go-containerregistry's HTTP clients replace net/http's redirect policy
// (ten at most) with a check that allows any number of same-host
// redirects, so a registry answering with a redirect loop would hold a
// request forever.
const MaxRedirects = 10

// redirectLimit refuses the request after MaxRedirects redirects: the
// redirected requests net/http makes carry the response that caused them
// (Request.Response), whose request is the one before.
type redirectLimit struct{ next http.RoundTripper }

// RoundTrip counts the redirects that led to req.
func (t redirectLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	n := 0
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		if n++; n > MaxRedirects {
			return nil, fmt.Errorf("%s %s: stopped after %d redirects (a redirect loop?)", req.Method, req.URL.Redacted(), MaxRedirects)
		}
	}
	return t.next.RoundTrip(req)
}

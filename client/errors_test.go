package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bctrlhq/sdk-go/client"
)

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		contentType string
		header      map[string]string
		body        string
		sentinel    error
		code, msg   string
		requestID   string
	}{
		{
			name: "bctrl error with error field", status: 401, contentType: "application/json",
			body:     `{"code":"auth.required","error":"missing bearer token","requestId":"req_123"}`,
			sentinel: client.ErrUnauthorized, code: "auth.required", msg: "missing bearer token", requestID: "req_123",
		},
		{
			name: "bctrl error with message field and header id", status: 404, contentType: "application/json",
			header:   map[string]string{"X-Request-Id": "req_hdr"},
			body:     `{"code":"invocation.not_found","message":"no such invocation"}`,
			sentinel: client.ErrNotFound, code: "invocation.not_found", msg: "no such invocation", requestID: "req_hdr",
		},
		{
			name: "forbidden", status: 403, contentType: "application/json",
			body: `{"code":"auth.forbidden","error":"space not allowed"}`, sentinel: client.ErrForbidden,
			code: "auth.forbidden", msg: "space not allowed",
		},
		{
			name: "rate limited, retries off", status: 429, contentType: "application/json",
			body: `{"code":"rate_limited","error":"slow down"}`, sentinel: client.ErrRateLimited,
			code: "rate_limited", msg: "slow down",
		},
		{
			name: "HTML page from a proxy", status: 502, contentType: "text/html",
			body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
		},
		{
			name: "nested error object", status: 400, contentType: "application/json",
			body: `{"error":{"message":"bad"}}`, msg: `{"message":"bad"}`,
		},
		{
			name: "empty body", status: 500,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}, client.WithMaxRetries(0))
			inv, err := c.Invocations.Get(t.Context(), "inv-1")
			if inv != nil {
				t.Errorf("Get returned an invocation with a %d", tt.status)
			}
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %T %v, want *client.APIError", err, err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Code != tt.code || apiErr.Message != tt.msg || apiErr.RequestID != tt.requestID {
				t.Errorf("APIError = {%d %q %q %q}, want {%d %q %q %q}", apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.RequestID,
					tt.status, tt.code, tt.msg, tt.requestID)
			}
			if string(apiErr.Body) != tt.body {
				t.Errorf("Body = %q, want %q", apiErr.Body, tt.body)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(err, %v) = false", tt.sentinel)
			}
			for _, other := range []error{client.ErrNotFound, client.ErrUnauthorized, client.ErrForbidden, client.ErrRateLimited} {
				if other != tt.sentinel && errors.Is(err, other) {
					t.Errorf("errors.Is(err, %v) = true for a %d", other, tt.status)
				}
			}
			msg := err.Error()
			if !strings.Contains(msg, "GET "+pathPrefix+"/v1/invocations/inv-1") || !strings.Contains(msg, http.StatusText(tt.status)) {
				t.Errorf("message %q lacks the route or status", msg)
			}
			if tt.requestID != "" && !strings.Contains(msg, tt.requestID) {
				t.Errorf("message %q lacks the request id", msg)
			}
		})
	}
}

func TestAPIErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 100<<10)
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		w.Write([]byte(big))
	}, client.WithMaxRetries(0))
	_, err := c.Invocations.Get(t.Context(), "inv-1")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	if n := len(apiErr.Body); n != 4<<10 {
		t.Errorf("len(Body) = %d, want 4096", n)
	}
	if len(err.Error()) > 1024 {
		t.Errorf("error message is %d bytes long", len(err.Error()))
	}
}

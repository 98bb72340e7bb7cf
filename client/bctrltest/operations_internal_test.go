package bctrltest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// withOperation adds an operation the fake does not model to the route
// table for one test, as a spec bump would. Its id and path are no real
// operation's, so that it cannot clash with one a bump adds.
func withOperation(t *testing.T, op specOperation) {
	saved := specOperations
	specOperations = append(append([]specOperation(nil), saved...), op)
	t.Cleanup(func() { specOperations = saved })
}

func do(t *testing.T, s *Server, method, path string) (int, map[string]string) {
	t.Helper()
	return doKey(t, s, s.APIKey(), method, path)
}

// doKey is do with the given key, none if "".
func doKey(t *testing.T, s *Server, key, method, path string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, s.URL+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// Not parallel: it edits the package's route table.
func TestUnmodelledOperation(t *testing.T) {
	withOperation(t, specOperation{ID: "bctrltestPoke", Method: "POST", Pattern: "/v1/invocations/{id}/_bctrltest_poke", Auth: true})
	s := NewServer(t, InMemory(), WithBasePath("/api"))

	status, body := do(t, s, http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke")
	if status != http.StatusNotImplemented || body["code"] != "not_implemented" || !strings.Contains(body["error"], "bctrltestPoke") {
		t.Errorf("unmodelled operation: %d %v, want 501 not_implemented naming bctrltestPoke", status, body)
	}

	s.HandleOperation("bctrltestPoke", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"code":"served","error":"` + r.PathValue("id") + `"}`))
	}))
	if status, body = do(t, s, http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke"); status != http.StatusOK || body["error"] != "inv-1" {
		t.Errorf("after HandleOperation: %d %v, want the handler's answer with the path value", status, body)
	}
	// An operation the spec authenticates is authenticated before its
	// handler, as before the 501.
	for _, key := range []string{"", "wrong-key"} {
		if status, body = doKey(t, s, key, http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke"); status != http.StatusUnauthorized || body["error"] == "inv-1" {
			t.Errorf("handled operation with key %q: %d %v, want 401 before the handler", key, status, body)
		}
	}

	// Faults still apply, and every request is recorded.
	s.Fault("", Fault{Status: http.StatusServiceUnavailable, Times: 1})
	if status, _ = do(t, s, http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke"); status != http.StatusServiceUnavailable {
		t.Errorf("a fault on a handled operation: %d, want 503", status)
	}
	if n := len(s.Requests()); n != 5 {
		t.Errorf("%d requests recorded, want 5", n)
	}

	// nil restores the 501; a modelled operation can be overridden too.
	s.HandleOperation("bctrltestPoke", nil)
	if status, _ = do(t, s, http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke"); status != http.StatusNotImplemented {
		t.Errorf("after HandleOperation(nil): %d, want 501", status)
	}
	if status, body = doKey(t, s, "", http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke"); status != http.StatusUnauthorized || body["code"] != "auth.required" {
		t.Errorf("unmodelled operation without a key: %d %v, want 401 auth.required before the 501", status, body)
	}
	s.HandleOperation("getInvocation", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	if status, _ = do(t, s, http.MethodGet, "/v1/invocations/inv-1"); status != http.StatusTeapot {
		t.Errorf("getInvocation after HandleOperation: %d, want the handler's 418", status)
	}
	// A path the spec does not declare is still a 404.
	if status, body = do(t, s, http.MethodGet, "/v1/nothing"); status != http.StatusNotFound || body["code"] != "route.not_found" {
		t.Errorf("undeclared path: %d %v, want 404 route.not_found", status, body)
	}
}

func TestHandleOperationUnknownID(t *testing.T) {
	s := NewServer(t, InMemory())
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "no-such-op") {
			t.Errorf("HandleOperation of an unknown id: recover() = %v, want a panic naming it", r)
		}
	}()
	s.HandleOperation("no-such-op", http.NotFoundHandler())
}

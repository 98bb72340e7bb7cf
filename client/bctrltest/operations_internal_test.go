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
	req, _ := http.NewRequestWithContext(t.Context(), method, s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
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
	withOperation(t, specOperation{ID: "bctrltestPoke", Method: "POST", Pattern: "/v1/invocations/{id}/_bctrltest_poke"})
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

	// Faults still apply, and every request is recorded.
	s.Fault("", Fault{Status: http.StatusServiceUnavailable, Times: 1})
	if status, _ = do(t, s, http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke"); status != http.StatusServiceUnavailable {
		t.Errorf("a fault on a handled operation: %d, want 503", status)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("%d requests recorded, want 3", n)
	}

	// nil restores the 501; a modelled operation can be overridden too.
	s.HandleOperation("bctrltestPoke", nil)
	if status, _ = do(t, s, http.MethodPost, "/v1/invocations/inv-1/_bctrltest_poke"); status != http.StatusNotImplemented {
		t.Errorf("after HandleOperation(nil): %d, want 501", status)
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

package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

func TestResultCell(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 80)
	for _, tt := range []struct {
		name string
		raw  string
		want string
	}{
		{"null", `null`, ""},
		{"absent", ``, ""},
		{"string", `"Total: $42.00"`, `"Total: $42.00"`},
		{"object made compact", "{ \"title\" : \"Checkout\",\n  \"n\": [1, 2] }", `{"title":"Checkout","n":[1,2]}`},
		{"number", `1.50`, `1.50`},
		{"escapes kept as sent", `"a\nb\u001b[2J"`, `"a\nb\u001b[2J"`},
		{"C1 control escaped", "\"a\u009b2Jb\"", `"a\u009b2Jb"`},
		{"bidi override escaped", "\"a\u202eb\"", `"a\u202eb"`},
		{"exactly the maximum", `"` + strings.Repeat("x", maxResult-2) + `"`, `"` + strings.Repeat("x", maxResult-2) + `"`},
		{"cut by runes", `"` + long + `"`, `"` + strings.Repeat("é", maxResult-2) + "…"},
	} {
		got := resultCell(newTermOut(nil), json.RawMessage(tt.raw))
		if got != tt.want {
			t.Errorf("%s: resultCell(%q) = %q, want %q", tt.name, tt.raw, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > maxResult {
			t.Errorf("%s: %d runes, more than %d", tt.name, n, maxResult)
		}
	}
}

// TestStepResultsInText checks the RESULT column of get's text output.
func TestStepResultsInText(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Set(bctrltest.Failed(bctrltest.NewInvocation("inv-1"), "step 4 failed",
		bctrltest.OKStep(0, "page.goto", nil),
		bctrltest.OKStep(1, "page.title", map[string]any{"title": "Checkout", "n": 1.5}),
		bctrltest.OKStep(2, "page.textContent", strings.Repeat("long text ", 20)),
		bctrltest.OKStep(3, "page.evaluate", "evil\u009b2J\u001b]0;x\u0007"),
		bctrltest.ErrStep(4, "page.clik", "UNKNOWN_CALL", "no such call", "did you mean page.click?"),
	))
	r := runCLI(t, envFor(srv), "invocations", "get", "inv-1")
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, re := range []string{
		`(?m)^INDEX +CALL +OK +RESULT +CODE +MESSAGE +HINT$`,
		`(?m)^0 +page\.goto +yes$`,
		`(?m)^1 +page\.title +yes +\{"n":1\.5,"title":"Checkout"\}$`,
		`(?m)^2 +page\.textContent +yes +"(long text ){5}long tex…$`,
		`(?m)^3 +page\.evaluate +yes +"evil\\u009b2J\\u001b\]0;x\\u0007"$`,
		`(?m)^4 +page\.clik +no +UNKNOWN_CALL +no such call +did you mean page\.click\?$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stdout has no match for %s:\n%s", re, r.stdout)
		}
	}
	if strings.ContainsAny(r.stdout, "\x1b\x07\u009b") {
		t.Errorf("stdout has control characters:\n%q", r.stdout)
	}
}

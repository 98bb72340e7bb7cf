package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	in := `components:
  schemas:
    Success:
      properties:
        ok:
          type: boolean
          enum:
            - true
        mode:
          type: string
          enum:
            - fail-fast
    Failure:
      properties:
        ok: {type: boolean, enum: [false]}
        either: {type: boolean, enum: [true, false]}
`
	var out bytes.Buffer
	n, err := run(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("run says it rewrote %d, want 2", n)
	}
	got := out.String()
	for _, want := range []string{"const: true", "const: false", "- fail-fast", "enum: [true, false]"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "const:"); n != 2 {
		t.Errorf("%d consts, want 2:\n%s", n, got)
	}
}

func TestRunFailsWhenNothingToRewrite(t *testing.T) {
	t.Parallel()
	_, err := run(strings.NewReader("components: {schemas: {A: {type: boolean}}}\n"), new(bytes.Buffer))
	if err == nil {
		t.Fatal("no error for a spec with no one-value boolean enum")
	}
}

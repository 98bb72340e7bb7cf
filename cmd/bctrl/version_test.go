package main

import (
	"encoding/json"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/gen"
)

// TestVersion runs "bctrl version" on the built binary: it needs no key
// and no server.
func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "version")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, re := range []string{
		// A checkout builds "(devel)", or a pseudo-version when go build
		// stamps VCS information (the default since Go 1.24).
		`(?m)^bctrl: +(\(devel\)|v\S+)$`,
		`(?m)^SDK: +` + regexp.QuoteMeta(sdkModule) + ` (\(devel\)|v\S+)$`,
		`(?m)^Client: +` + regexp.QuoteMeta(client.Version()) + `$`,
		`(?m)^API spec: +` + regexp.QuoteMeta(gen.SpecTitle()+" "+gen.SpecVersion()) + `$`,
		`(?m)^Go: +` + regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + `$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stdout has no match for %s:\n%s", re, r.stdout)
		}
	}

	r = runCLI(t, nil, "version", "-o", "json")
	if r.code != exitOK {
		t.Fatalf("-o json: exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	var got versionInfo
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("-o json: %v\n%s", err, r.stdout)
	}
	if got.Version == "" || got.Version == "unknown" || got.SDKVersion != got.Version {
		t.Errorf("version %q, sdk_version %q: want the same known version", got.Version, got.SDKVersion)
	}
	got.Version, got.SDKVersion, got.VCS = "", "", nil // depend on how the binary was built
	want := versionInfo{
		Module:        sdkModule,
		SDKModule:     sdkModule,
		ClientVersion: client.Version(),
		APITitle:      gen.SpecTitle(),
		APIVersion:    gen.SpecVersion(),
		GoVersion:     runtime.Version(),
		Platform:      runtime.GOOS + "/" + runtime.GOARCH,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-o json (-want +got):\n%s", diff)
	}

	r = runCLI(t, nil, "version", "extra")
	if r.code != exitUsage {
		t.Errorf("version extra: exit code %d, want %d", r.code, exitUsage)
	}
}

// TestVersionFromBuildInfo checks how the build info becomes the version:
// installed at a tag, embedded in another module as a dependency, replaced,
// built from a checkout, or without build info.
func TestVersionFromBuildInfo(t *testing.T) {
	t.Parallel()
	base := versionInfo{
		SDKModule:     sdkModule,
		ClientVersion: client.Version(),
		APITitle:      gen.SpecTitle(),
		APIVersion:    gen.SpecVersion(),
		GoVersion:     "go1.26.1",
		Platform:      runtime.GOOS + "/" + runtime.GOARCH,
	}
	with := func(f func(v *versionInfo)) versionInfo { v := base; f(&v); return v }
	tests := []struct {
		name string
		info *debug.BuildInfo
		want versionInfo
		text []string // lines of the text output
	}{
		{
			name: "go install at a tag",
			info: &debug.BuildInfo{
				GoVersion: "go1.26.1",
				Main:      debug.Module{Path: sdkModule, Version: "v0.2.0"},
				Settings: []debug.BuildSetting{
					{Key: "vcs.revision", Value: "c759cbe0"},
					{Key: "vcs.time", Value: "2026-11-01T10:00:00Z"},
					{Key: "vcs.modified", Value: "true"},
				},
			},
			want: with(func(v *versionInfo) {
				v.Version, v.Module, v.SDKVersion = "v0.2.0", sdkModule, "v0.2.0"
				v.VCS = &vcsInfo{Revision: "c759cbe0", Time: "2026-11-01T10:00:00Z", Modified: true}
			}),
			text: []string{
				"bctrl:     v0.2.0",
				"SDK:       github.com/bctrlhq/sdk-go v0.2.0",
				"Commit:    c759cbe0 2026-11-01T10:00:00Z (modified)",
			},
		},
		{
			name: "SDK as a dependency",
			info: &debug.BuildInfo{
				GoVersion: "go1.26.1",
				Main:      debug.Module{Path: "example.com/tools", Version: "v1.4.0"},
				Deps:      []*debug.Module{{Path: "example.com/other", Version: "v9.0.0"}, {Path: sdkModule, Version: "v0.3.1"}},
			},
			want: with(func(v *versionInfo) {
				v.Version, v.Module, v.SDKVersion = "v1.4.0", "example.com/tools", "v0.3.1"
			}),
			text: []string{
				"bctrl:     v1.4.0",
				"Module:    example.com/tools",
				"SDK:       github.com/bctrlhq/sdk-go v0.3.1",
				"Client:    " + client.Version(),
				"API spec:  " + gen.SpecTitle() + " " + gen.SpecVersion(),
				"Go:        go1.26.1 " + runtime.GOOS + "/" + runtime.GOARCH,
			},
		},
		{
			name: "SDK replaced",
			info: &debug.BuildInfo{
				GoVersion: "go1.26.1",
				Main:      debug.Module{Path: "example.com/tools", Version: "(devel)"},
				Deps:      []*debug.Module{{Path: sdkModule, Version: "v0.3.1", Replace: &debug.Module{Path: "../sdk-go"}}},
			},
			want: with(func(v *versionInfo) {
				v.Version, v.Module, v.SDKVersion = "(devel)", "example.com/tools", "v0.3.1 => ../sdk-go"
			}),
			text: []string{"SDK:       github.com/bctrlhq/sdk-go v0.3.1 => ../sdk-go"},
		},
		{
			name: "checkout without a version",
			info: &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: sdkModule}},
			want: with(func(v *versionInfo) {
				v.Version, v.Module, v.SDKVersion = "(devel)", sdkModule, "(devel)"
			}),
			text: []string{"bctrl:     (devel)", "SDK:       github.com/bctrlhq/sdk-go (devel)"},
		},
		{
			name: "no build info",
			want: with(func(v *versionInfo) { v.Version, v.GoVersion = "unknown", runtime.Version() }),
			text: []string{"bctrl:     unknown", "SDK:       github.com/bctrlhq/sdk-go"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run := func(args ...string) result {
				t.Helper()
				a, stdout, stderr := newTestApp(nil, false)
				a.buildInfo = func() (*debug.BuildInfo, bool) { return tt.info, tt.info != nil }
				code := a.run(t.Context(), args)
				if code != exitOK {
					t.Fatalf("bctrl %q: exit code %d; stderr:\n%s", args, code, stderr)
				}
				return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
			}
			var got versionInfo
			if err := json.Unmarshal([]byte(run("version", "-o", "json").stdout), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("-o json (-want +got):\n%s", diff)
			}
			lines := strings.Split(run("version").stdout, "\n")
			for _, want := range tt.text {
				if !slices.Contains(lines, want) {
					t.Errorf("text output has no line %q:\n%s", want, strings.Join(lines, "\n"))
				}
			}
		})
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wsunify/wsunify/codemod"
)

// The output formats of plan and check.
const (
	formatText   = "text"
	formatJSON   = "json"
	formatGitHub = "github"
	formatSARIF  = "sarif"
)

var formats = []string{formatText, formatJSON, formatGitHub, formatSARIF}

// formatFlag is the -format flag.
type formatFlag string

func (f *formatFlag) String() string { return string(*f) }

func (f *formatFlag) Set(v string) error {
	for _, name := range formats {
		if v == name {
			*f = formatFlag(v)
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(formats, ", "))
}

// ciReport is what plan and check print for a CI: every legacy use left
// and every finding, with absolute file names, which the writers make
// relative to Root, the repository's root.
type ciReport struct {
	Root     string
	Sites    []codemod.Site
	Findings []codemod.Finding
	Rules    []*codemod.Rule // the recipe's
}

// repoRoot returns the root that CI paths are relative to: the git
// top-level of dir, or, outside git, the root of dir's module (dir itself
// when there is none).
func repoRoot(dir string) string {
	cmd := exec.Command("git", "rev-parse", "--show-toplevel")
	cmd.Dir = dir
	if out, err := cmd.Output(); err == nil {
		if top := strings.TrimSpace(string(out)); top != "" {
			if r, err := filepath.EvalSymlinks(top); err == nil {
				return r
			}
			return top
		}
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// uri returns name relative to r.Root, slash-separated, as both GitHub and
// SARIF want it; a name outside the root stays absolute.
func (r *ciReport) uri(name string) string {
	if rel, err := filepath.Rel(r.Root, name); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	if real, err := filepath.EvalSymlinks(name); err == nil && real != name {
		return r.uri(real)
	}
	return filepath.ToSlash(name)
}

// ruleByID returns the rule of rules with the given ID, or nil.
func ruleByID(rules []*codemod.Rule, id string) *codemod.Rule {
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// siteMessage says what a legacy use is and what it becomes.
func siteMessage(rules []*codemod.Rule, rule string) string {
	if r := ruleByID(rules, rule); r != nil && rule != codemod.RuleBridgeRef {
		return fmt.Sprintf("legacy use of %s; migrated form: %s", r.Legacy, r.Form)
	}
	return ruleShort(rules, rule)
}

// ruleShort and ruleHelp describe a rule of the recipe, or another.
func ruleShort(rules []*codemod.Rule, id string) string {
	if id == codemod.RuleBridgeRef {
		return "reference to a legacy package that no rule rewrites"
	}
	if r := ruleByID(rules, id); r != nil {
		return fmt.Sprintf("%s → %s", r.Legacy, r.Form)
	}
	return "legacy use (" + id + ")"
}

func ruleHelp(rules []*codemod.Rule, id string) string {
	if id == codemod.RuleBridgeRef {
		return "A reference to a legacy package that no rewrite removes: " +
			"port it to package facade by hand (see MIGRATION.md), then run `wsunify check` again."
	}
	if r := ruleByID(rules, id); r != nil {
		return fmt.Sprintf("wsunify rule %s (%s step) rewrites %s to %s. "+
			"Run `wsunify apply` to rewrite every use it can prove equivalent; "+
			"a finding says why a use is left for a human.", r.ID, r.Step, r.Legacy, r.Form)
	}
	return "A legacy use that wsunify counts under " + id + "; see MIGRATION.md."
}

// ruleIDs returns the built-in rules and every other rule r reports, in a
// stable order.
func (r *ciReport) ruleIDs() []string {
	ids := []string{}
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, rule := range r.Rules {
		add(rule.ID)
	}
	add(codemod.RuleBridgeRef)
	for _, s := range r.Sites {
		add(s.Rule)
	}
	for _, f := range r.Findings {
		add(f.Rule)
	}
	return ids
}

// otherSites are the legacy uses left that no finding is about: a finding
// is reported in their place.
func (r *ciReport) otherSites() []codemod.Site {
	type key struct {
		file      string
		line, col int
		rule      string
	}
	found := map[key]bool{}
	for _, f := range r.Findings {
		found[key{f.Pos.Filename, f.Pos.Line, f.Pos.Column, f.Rule}] = true
	}
	var sites []codemod.Site
	for _, s := range r.Sites {
		if !found[key{s.Pos.Filename, s.Pos.Line, s.Pos.Column, s.Rule}] {
			sites = append(sites, s)
		}
	}
	return sites
}

// writeGitHub writes one workflow command per finding (a warning: a human
// must act) and per legacy use left without one (a notice), in the format
// of GitHub Actions:
//
//	::warning file=internal/chat/handler.go,line=60,col=27,title=wsunify retype::m keeps its legacy type: ...
func writeGitHub(w io.Writer, r *ciReport) error {
	for _, f := range r.Findings {
		msg := f.Message
		for _, rel := range f.Related {
			msg += fmt.Sprintf("\n%s:%d:%d: %s", r.uri(rel.Pos.Filename), rel.Pos.Line, rel.Pos.Column, rel.Message)
		}
		if err := ghCommand(w, "warning", r.uri(f.Pos.Filename), f.Pos.Line, f.Pos.Column, "wsunify "+f.Rule, msg); err != nil {
			return err
		}
	}
	for _, s := range r.otherSites() {
		if err := ghCommand(w, "notice", r.uri(s.Pos.Filename), s.Pos.Line, s.Pos.Column, "wsunify "+s.Rule, siteMessage(r.Rules, s.Rule)); err != nil {
			return err
		}
	}
	return nil
}

func ghCommand(w io.Writer, level, file string, line, col int, title, msg string) error {
	_, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n",
		level, ghProperty(file), line, col, ghProperty(title), ghData(msg))
	return err
}

// ghData and ghProperty escape as the Actions toolkit does (escapeData and
// escapeProperty of @actions/core): the runner decodes exactly these.
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace
)

// SARIF 2.1.0, the subset wsunify writes.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool               sarifTool                  `json:"tool"`
		OriginalURIBaseIDs map[string]sarifArtifactID `json:"originalUriBaseIds,omitempty"`
		Results            []sarifResult              `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name  string      `json:"name"`
		Rules []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string        `json:"id"`
		ShortDescription     sarifText     `json:"shortDescription"`
		FullDescription      sarifText     `json:"fullDescription"`
		Help                 sarifText     `json:"help"`
		DefaultConfiguration sarifRuleConf `json:"defaultConfiguration"`
	}
	sarifRuleConf struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifArtifactID struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifResult struct {
		RuleID           string          `json:"ruleId"`
		RuleIndex        int             `json:"ruleIndex"`
		Level            string          `json:"level"`
		Message          sarifText       `json:"message"`
		Locations        []sarifLocation `json:"locations"`
		RelatedLocations []sarifLocation `json:"relatedLocations,omitempty"`
	}
	sarifLocation struct {
		ID               *int          `json:"id,omitempty"`
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
		Message          *sarifText    `json:"message,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifactID `json:"artifactLocation"`
		Region           sarifRegion     `json:"region"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
)

const sarifSchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// srcRoot is the uriBaseId of every location: the repository's root.
const srcRoot = "%SRCROOT%"

// writeSARIF writes r as a SARIF 2.1.0 log for code scanning: the rules
// are the recipe's, with their help; each finding is a warning, with its
// related locations, and each legacy use left without one a note.
func writeSARIF(w io.Writer, r *ciReport) error {
	ids := r.ruleIDs()
	index := map[string]int{}
	run := sarifRun{
		Tool:               sarifTool{Driver: sarifDriver{Name: "wsunify", Rules: []sarifRule{}}},
		OriginalURIBaseIDs: map[string]sarifArtifactID{srcRoot: {URI: fileURI(r.Root)}},
		Results:            []sarifResult{},
	}
	for i, id := range ids {
		index[id] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: id, ShortDescription: sarifText{ruleShort(r.Rules, id)}, FullDescription: sarifText{ruleHelp(r.Rules, id)},
			Help: sarifText{ruleHelp(r.Rules, id)}, DefaultConfiguration: sarifRuleConf{Level: "warning"},
		})
	}
	loc := func(name string, line, col int) sarifPhysical {
		return sarifPhysical{
			ArtifactLocation: sarifArtifactID{URI: r.uri(name), URIBaseID: srcRoot},
			Region:           sarifRegion{StartLine: max(line, 1), StartColumn: col},
		}
	}
	for _, f := range r.Findings {
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: "warning", Message: sarifText{f.Message},
			Locations: []sarifLocation{{PhysicalLocation: loc(f.Pos.Filename, f.Pos.Line, f.Pos.Column)}},
		}
		for i, rel := range f.Related {
			res.RelatedLocations = append(res.RelatedLocations, sarifLocation{
				ID: &i, PhysicalLocation: loc(rel.Pos.Filename, rel.Pos.Line, rel.Pos.Column), Message: &sarifText{rel.Message},
			})
		}
		run.Results = append(run.Results, res)
	}
	for _, s := range r.otherSites() {
		run.Results = append(run.Results, sarifResult{
			RuleID: s.Rule, RuleIndex: index[s.Rule], Level: "note", Message: sarifText{siteMessage(r.Rules, s.Rule)},
			Locations: []sarifLocation{{PhysicalLocation: loc(s.Pos.Filename, s.Pos.Line, s.Pos.Column)}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}})
}

// fileURI returns the file: URI of a directory, with its trailing slash,
// as a uriBaseId's base must have.
func fileURI(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return "file://" + strings.TrimSuffix(p, "/") + "/"
}

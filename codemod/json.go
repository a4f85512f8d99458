package codemod

import (
	"encoding/json"
	"go/token"
)

// Related is another place a finding's reason names, with what happens
// there.
type Related struct {
	Pos     token.Position
	Message string
}

// Position is the one form a position takes in JSON, in a finding, its
// related places and a site alike: the file as the tool prints it, and the
// 1-based line and column (in bytes).
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// PositionOf returns p in its JSON form.
func PositionOf(p token.Position) Position {
	return Position{File: p.Filename, Line: p.Line, Column: p.Column}
}

func (p Position) token() token.Position {
	return token.Position{Filename: p.File, Line: p.Line, Column: p.Column}
}

type jsonRelated struct {
	Pos     Position `json:"pos"`
	Message string   `json:"message"`
}

type jsonFinding struct {
	Pos     Position      `json:"pos"`
	Package string        `json:"package"`
	Rule    string        `json:"rule"`
	Message string        `json:"message"`
	Related []jsonRelated `json:"related"`
}

// MarshalJSON writes f as
//
//	{"pos": {"file": "x.go", "line": 3, "column": 9}, "package": "example.com/app",
//	 "rule": "retype", "message": "...", "related": [{"pos": {...}, "message": "..."}]}
//
// related is [] when there is none, never null.
func (f Finding) MarshalJSON() ([]byte, error) {
	j := jsonFinding{Pos: PositionOf(f.Pos), Package: f.Package, Rule: f.Rule, Message: f.Message, Related: []jsonRelated{}}
	for _, r := range f.Related {
		j.Related = append(j.Related, jsonRelated{Pos: PositionOf(r.Pos), Message: r.Message})
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Finding) UnmarshalJSON(b []byte) error {
	var j jsonFinding
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Finding{Pos: j.Pos.token(), Package: j.Package, Rule: j.Rule, Message: j.Message}
	for _, r := range j.Related {
		f.Related = append(f.Related, Related{Pos: r.Pos.token(), Message: r.Message})
	}
	return nil
}

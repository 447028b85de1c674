package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSyntaxErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`{"version": "v1" "repositories": []}`, `1:18: expected ',' or '}' after the value of "version", found '"'; is a comma missing?`},
		{`{"repositories": [{"repository": "a"} {}]}`, `1:39: expected ',' or ']' after an array element, found '{'; is a comma missing?`},
		{`{version: "v1"}`, `1:2: expected a field name in double quotes, found 'v'`},
		{`{'version': 'v1'}`, `1:2: expected a field name in double quotes, found '\''`},
		{`{"version" "v1"}`, `1:12: expected ':' after field name "version", found '"'`},
		{`{"version": "v1}`, `1:13: unterminated string; close it with "`},
		{"{\"version\": \"v\n1\"}", `1:15: line break in a string; close the string with " before the end of the line, or write \n`},
		{"{\"version\": \"v\t1\"}", `1:15: control character '\t' in a string; write it as an escape such as \t or \u0001`},
		{`{"version": "v\x"}`, `1:15: invalid escape in a string; the escapes are \" \\ \/ \b \f \n \r \t and \uXXXX`},
		{`{"version": "\u12"}`, `1:14: invalid \u escape; write \u followed by 4 hexadecimal digits`},
		{`{"version": "v\`, `1:15: unterminated string; close it with "`},
		{`{"a": 01}`, `1:7: invalid number: leading zeros are not allowed`},
		{`{"a": -}`, `1:7: invalid number: a digit must follow '-'`},
		{`{"a": 1.}`, `1:7: invalid number: digits must follow the decimal point`},
		{`{"a": 1e+}`, `1:7: invalid number: digits must follow the exponent`},
		{`{"a": True}`, `1:7: invalid literal "True"; write it in lowercase: true`},
		{`{"a": yes}`, `1:7: unexpected "yes"; put strings in double quotes`},
		{`{"a": NaN}`, `1:7: unexpected "NaN"; put strings in double quotes`},
		{`{"a": }`, `1:7: expected a value, found '}'`},
		{`{"a": [1,,2]}`, `1:10: expected a value, found ','`},
		{`{"a": [,]}`, `1:8: expected a value, found ','`},
		{`{,}`, `1:2: expected a field name in double quotes, found ','`},
		{`{"a": 1,,}`, `1:9: expected a field name in double quotes, found ','`},
		{`{"a":`, `1:6: unexpected end of file; a value is missing`},
		{`{"a": 1,`, `1:9: unexpected end of file; close the object opened at 1:1 with }`},
		{"{\n  \"a\": [1, 2", `2:13: unexpected end of file; close the array opened at 2:8 with ]`},
		{`{"a": 1} x`, `1:10: unexpected 'x' after the end of the top-level value; remove it`},
		{`{"a": 1} {}`, `1:10: unexpected '{' after the end of the top-level value; remove it`},
		{`{"a": 1 /* x`, `1:9: unterminated /* comment; close it with */`},
		{`{"a": 1 / 2}`, `1:9: unexpected '/'; comments start with // or /*`},
		{"{\u00a0}", `1:2: expected a field name in double quotes, found '\u00a0'`},
		{"{\"a\": \"\xff\"}", `1:8: invalid UTF-8 byte 0xff; save the file as UTF-8`},
		{"\xef\xbb\xbf{\n\"a\": 1\xef\xbb\xbf}", `2:7: expected ',' or '}' after the value of "a", found '\ufeff'; is a comma missing?`},
		{"{\n  \"version\": \"v1\",\n  /* a\n  comment */ \"repositories\": [\n    {\"repository\": \"a\" \"tags\": []}\n  ]\n}",
			`5:24: expected ',' or '}' after the value of "repository", found '"'; is a comma missing?`},
	}
	for _, tc := range cases {
		got := problems(t, tc.src)
		if want := "c.json:" + tc.want; len(got) != 1 || got[0] != want {
			t.Errorf("Parse(%q) problems =\n%s\nwant\n%s", tc.src, strings.Join(got, "\n"), want)
		}
	}
}

func TestSyntaxErrorHidesOtherProblems(t *testing.T) {
	got := problems(t, `{"version": "v2", "repositories": [] "x": 1}`)
	want := []string{`c.json:1:38: expected ',' or '}' after the value of "repositories", found '"'; is a comma missing?`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestNestingLimit(t *testing.T) {
	// 63 arrays inside the top-level object are 64 levels: allowed.
	ok := `{"x": ` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `, "version": "v1", ` + repos + `}`
	want := `c.json:1:2: x: unknown field "x"; ` + knownTop
	if got := problems(t, ok); len(got) != 1 || got[0] != want {
		t.Errorf("problems = %q, want [%q]", got, want)
	}

	// The 64th array is one level too many; a million more must not matter.
	deep := `{"x": ` + strings.Repeat("[", 1_000_000)
	want = "c.json:1:70: objects and arrays are nested more than 64 levels deep"
	if got := problems(t, deep); len(got) != 1 || got[0] != want {
		t.Errorf("problems = %q, want [%q]", got, want)
	}
	deep = strings.Repeat(`{"a":`, 1_000_000)
	want = "c.json:1:321: objects and arrays are nested more than 64 levels deep"
	if got := problems(t, deep); len(got) != 1 || got[0] != want {
		t.Errorf("problems = %q, want [%q]", got, want)
	}
}

// hugeConfig is a valid config of almost MaxSize bytes: one repository
// with some 800,000 tags.
func hugeConfig() []byte {
	var b strings.Builder
	b.WriteString(`{"version": "v1", "repositories": [{"repository": "a", "tags": [`)
	for i := 0; b.Len() < MaxSize-100; i++ {
		fmt.Fprintf(&b, `"tag%d",`, i)
	}
	b.WriteString(`]}]}`)
	return []byte(b.String())
}

// hugeProblems is a config of almost MaxSize bytes that is nothing but
// problems.
func hugeProblems() []byte {
	return []byte(`{"repositories": [{"repository": "a", "tags": [` + strings.Repeat(`"a-1",`, MaxSize/7) + `]}]}`)
}

// TestHugeInput parses configs of the maximum size; how fast is measured
// by BenchmarkParseHuge, not here (a loaded machine makes any time limit
// flaky).
func TestHugeInput(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	cfg, err := Parse("c.json", hugeConfig())
	if err != nil {
		t.Fatalf("Parse: %.300v", err)
	}
	if n := len(cfg.Repositories[0].Tags); n < 800_000 {
		t.Errorf("%d tags", n)
	}

	// A file of nothing but problems is reported briefly.
	_, err = Parse("c.json", hugeProblems())
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.Problems) != maxProblems+1 {
		t.Fatalf("error = %.300v", err)
	}
}

// BenchmarkParseHuge measures Parse on configs of the maximum size, valid
// and all problems, in MB/s.
func BenchmarkParseHuge(b *testing.B) {
	for name, data := range map[string][]byte{"valid": hugeConfig(), "problems": hugeProblems()} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, _ = Parse("c.json", data)
			}
		})
	}
}

// jsonSamples are standard JSON texts that exercise the lexer.
var jsonSamples = []string{
	`{}`, `[]`, `0`, `-0`, `-0.5e-10`, `1E+2`, `123456789`, `""`, `"\"\\\/\b\f\n\r\t"`,
	`"\u00e9\uD83D\uDE00"`, `"\uD800"`, `"\uD800\u0041"`, `"\uDC00\uD800"`, `"é😀"`, `true`, `false`, `null`,
	` { "a" : [ 1 , { "b" : null } ] } `, "\t\r\n[\n1\r\n]\n", `[[[[[]]]]]`, `{"a":{"a":{"a":{}}}}`,
	`{"":""}`, `[1,2,3]`, `[-1.0e0]`,
}

// invalidSamples are texts that are neither JSON nor JWCC.
var invalidSamples = []string{
	`[01]`, `[1.]`, `[.5]`, `[+1]`, `[1e]`, `[0x1]`, `[-]`, `["\x"]`, `["\u12"]`, "[\"\x01\"]",
	`[tru]`, `[True]`, `[nul]`, `[,]`, `[1,,2]`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a:1}`,
	`['a']`, `[1 2]`, `{"a":1 "b":2}`, `[1]]`, `[1]x`, `[`, `{`, `"abc`, `/`, `/* x`, `[1,]]`,
}

// lexOnly checks data with the lexer alone, as one JWCC value.
func lexOnly(data []byte) error {
	l := newLexer(data)
	if err := l.skip(); err != nil {
		return err
	}
	if err := l.skipValue(); err != nil {
		return err
	}
	if err := l.skip(); err != nil {
		return err
	}
	if !l.eof() {
		return l.errorf(l.pos(), "trailing data")
	}
	return nil
}

// checkLexerAgrees fails if the lexer rejects standard JSON that it should
// accept: valid UTF-8 nested no deeper than MaxDepth.
func checkLexerAgrees(t *testing.T, data []byte) {
	t.Helper()
	if !json.Valid(data) || !utf8.Valid(data) {
		return
	}
	err := lexOnly(data)
	var se *syntaxError
	if errors.As(err, &se) && strings.Contains(se.msg, "nested more than") {
		return
	}
	if err != nil {
		t.Errorf("lexer rejects valid JSON %q: %v", data, err)
	}
}

func TestLexerMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		if !json.Valid([]byte(s)) {
			t.Fatalf("bad sample %q", s)
		}
		checkLexerAgrees(t, []byte(s))
	}
	for _, s := range invalidSamples {
		if err := lexOnly([]byte(s)); err == nil {
			t.Errorf("lexer accepts %q", s)
		}
	}
	for _, s := range []string{`[1,]`, `{"a":1,}`, `[1 /* c */, // d` + "\n]", `/**/[]//`, `/***/[/*/*/]`} {
		if err := lexOnly([]byte(s)); err != nil {
			t.Errorf("lexer rejects JWCC %q: %v", s, err)
		}
	}
}

func TestStringDecoding(t *testing.T) {
	cases := map[string]string{
		`"plain"`:              "plain",
		`"\"\\\/\b\f\n\r\t"`:   "\"\\/\b\f\n\r\t",
		`"\u00e9\u00E9"`:       "éé",
		`"\uD83D\uDE00"`:       "😀",
		`"\uD800"`:             "\uFFFD",
		`"\uD800\u0041"`:       "\uFFFDA",
		`"\uD800\uD800\uDC00"`: "\uFFFD\U00010000",
		`"a\u0000b"`:           "a\x00b",
		`"é😀"`:                 "é😀",
	}
	for src, want := range cases {
		l := newLexer([]byte(src))
		got, err := l.str()
		var std string
		if jerr := json.Unmarshal([]byte(src), &std); jerr != nil || std != want {
			t.Fatalf("encoding/json decodes %s as %q (%v), want %q", src, std, jerr, want)
		}
		if err != nil || got != want || !l.eof() {
			t.Errorf("str(%s) = %q, %v, want %q", src, got, err, want)
		}
	}
}

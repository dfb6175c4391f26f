package refresh

// Importing deliveries captured elsewhere (a proxy's log, another listener, a support
// bundle) into the journal, for `foundation webhook replay --file`.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"foundation/jira"
	"foundation/store"
)

// ImportOptions configure ImportDeliveries.
type ImportOptions struct {
	// Secret, when set, checks every line's X-Hub-Signature as the listener does: a line
	// whose signature is missing or does not match is refused.
	Secret []byte
	// Unsigned takes lines without a signature despite a Secret: whoever runs the import
	// vouches for the file (a capture that kept bodies only). Forged signatures are still
	// refused.
	Unsigned bool
	// MaxBody is the largest delivery body accepted; zero means DefaultMaxBody.
	MaxBody int64
}

// LineError says why one line of an import was refused.
type LineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportStats is what an import did.
type ImportStats struct {
	Lines      int         `json:"lines"`
	Journaled  int         `json:"journaled"`
	Duplicates int         `json:"duplicates"`
	Refused    []LineError `json:"refused,omitempty"`
}

// importBatch is how many lines share one durable journal commit.
const importBatch = 256

// ImportDeliveries journals deliveries read from r, one JSON value per line: either a
// webhook body as Jira sent it, or {"headers": {...}, "body": ...} where body is the payload
// (an object, or a string holding the raw bytes) and headers map names to a string or a list
// of strings. Blank lines are skipped. Identifiers de-duplicate as for live deliveries, so
// importing a file twice journals nothing new. Refused lines are listed, not fatal.
func ImportDeliveries(ctx context.Context, db *store.DB, r io.Reader, opt ImportOptions) (ImportStats, error) {
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	var st ImportStats
	sc := bufio.NewScanner(r)
	// A line holds the body plus headers and the envelope's escaping: allow twice the body.
	sc.Buffer(make([]byte, 64<<10), int(2*opt.MaxBody)+64<<10)
	var batch []store.JournalEntry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := db.AppendJournal(ctx, batch...)
		if err != nil {
			return fmt.Errorf("import deliveries: %w", err)
		}
		for _, a := range res {
			if a.Duplicate {
				st.Duplicates++
			} else {
				st.Journaled++
			}
		}
		batch = batch[:0]
		return nil
	}
	for sc.Scan() {
		st.Lines++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		body, h, reason := splitCaptured(line)
		if reason == "" && int64(len(body)) > opt.MaxBody {
			reason = fmt.Sprintf("body of %d bytes exceeds the limit of %d", len(body), opt.MaxBody)
		}
		if reason == "" && len(opt.Secret) > 0 {
			switch sig := h.Get("X-Hub-Signature"); {
			case sig == "" && !opt.Unsigned:
				reason = "unsigned delivery (no X-Hub-Signature) while a secret is configured (--unsigned takes it anyway)"
			case sig != "" && !jira.VerifySignature(opt.Secret, body, sig):
				reason = "X-Hub-Signature does not match the body under the configured secret"
			}
		}
		var e store.JournalEntry
		if reason == "" {
			retry, _ := strconv.Atoi(h.Get("X-Atlassian-Webhook-Retry"))
			e, reason = journalEntry(body, h, retry)
		}
		if reason != "" {
			st.Refused = append(st.Refused, LineError{Line: st.Lines, Reason: reason})
			continue
		}
		batch = append(batch, e)
		if len(batch) >= importBatch {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if ferr := flush(); ferr != nil {
			return st, ferr
		}
		return st, fmt.Errorf("import deliveries: line %d: %w", st.Lines+1, err)
	}
	return st, flush()
}

// splitCaptured separates a captured line into body and headers.
func splitCaptured(line []byte) ([]byte, http.Header, string) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(line, &env); err != nil {
		return nil, nil, "not a JSON object: " + err.Error()
	}
	rawBody, hasBody := env["body"]
	_, isPayload := env["webhookEvent"]
	if !hasBody || isPayload {
		return line, http.Header{}, ""
	}
	h := http.Header{}
	if raw, ok := env["headers"]; ok && string(raw) != "null" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, nil, "headers: want an object: " + err.Error()
		}
		for k, v := range m {
			var one string
			var many []string
			switch {
			case json.Unmarshal(v, &one) == nil:
				h.Add(k, one)
			case json.Unmarshal(v, &many) == nil:
				for _, s := range many {
					h.Add(k, s)
				}
			default:
				return nil, nil, fmt.Sprintf("headers: %s: want a string or a list of strings", k)
			}
		}
	}
	var s string
	if json.Unmarshal(rawBody, &s) == nil {
		return []byte(s), h, ""
	}
	return []byte(rawBody), h, ""
}

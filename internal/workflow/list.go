package workflow

import "context"

// Workflows lists the workflows of every registry, ordered by registry and
// type.
func (e *Engine) Workflows(ctx context.Context) ([]Workflow, error) {
	rows, err := e.store.Workflows(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]Workflow, 0, len(rows))
	for _, r := range rows {
		w, err := toWorkflow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, *w)
	}
	return out, nil
}

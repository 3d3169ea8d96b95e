package clearance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// The tariff lives in clearance_tariff_lines (migrations/00010). The shipped
// file seeds it: the first load of a version not yet in
// clearance_tariff_versions writes the file's lines (a changed line of the
// file replaces the stored one), recorded as changed by "tariff file
// <version>". Operators put lines (PutTariffLine); every change keeps its
// before and after in clearance_tariff_changes. The matcher reads the whole
// table from memory (tariffCache): a change here invalidates this process's
// copy at once, other processes' within tariffCacheTTL.

// Errors of the tariff API (docs/errors.md).
var (
	ErrTariffLineNotFound = apperr.New("TARIFF_LINE_NOT_FOUND", "no tariff line of this code")
	ErrTariffLineOverlap  = apperr.New("TARIFF_LINE_OVERLAP", "another line of this code is in force on some of these days")
)

// TariffChange is one recorded change of a tariff line.
type TariffChange struct {
	Code      string          `json:"code" db:"code"`
	ValidFrom Day             `json:"valid_from" db:"valid_from"`
	ChangedBy string          `json:"changed_by" db:"changed_by"`
	ChangedAt time.Time       `json:"changed_at" db:"changed_at"`
	Before    json.RawMessage `json:"before" db:"before"` // null when the line was created
	After     json.RawMessage `json:"after" db:"after"`
}

const tariffLineColumns = `code, to_char(valid_from, 'YYYY-MM-DD') AS valid_from,
	coalesce(to_char(valid_to, 'YYYY-MM-DD'), '') AS valid_to, duty_rate, vat_rate, consumption_rate,
	consumption_min_per_ml_or_g, consumption_min_per_piece, description, source`

const upsertTariffLineSQL = `
INSERT INTO clearance_tariff_lines (code, valid_from, valid_to, duty_rate, vat_rate, consumption_rate,
	consumption_min_per_ml_or_g, consumption_min_per_piece, description, source, updated_by)
VALUES ($1, $2, nullif($3, '')::date, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (code, valid_from) DO UPDATE SET valid_to = excluded.valid_to, duty_rate = excluded.duty_rate,
	vat_rate = excluded.vat_rate, consumption_rate = excluded.consumption_rate,
	consumption_min_per_ml_or_g = excluded.consumption_min_per_ml_or_g,
	consumption_min_per_piece = excluded.consumption_min_per_piece, description = excluded.description,
	source = excluded.source, updated_by = excluded.updated_by, updated_at = now()`

// TariffLines returns the lines of one code (every validity), by date, and
// their changes, oldest first.
func (s *Service) TariffLines(ctx context.Context, code string) ([]TariffLine, []TariffChange, error) {
	if err := s.seedTariff(ctx); err != nil {
		return nil, nil, err
	}
	var lines []TariffLine
	if err := s.db.SelectContext(ctx, &lines, `SELECT `+tariffLineColumns+` FROM clearance_tariff_lines WHERE code = $1 ORDER BY valid_from`, code); err != nil {
		return nil, nil, fmt.Errorf("read tariff lines %s: %w", code, err)
	}
	if len(lines) == 0 {
		return nil, nil, ErrTariffLineNotFound.With("no tariff line of code %s", code)
	}
	var changes []TariffChange
	if err := s.db.SelectContext(ctx, &changes, `SELECT code, to_char(valid_from, 'YYYY-MM-DD') AS valid_from, changed_by,
		changed_at, coalesce(before, 'null'::jsonb) AS before, after FROM clearance_tariff_changes WHERE code = $1 ORDER BY id`, code); err != nil {
		return nil, nil, fmt.Errorf("read tariff changes %s: %w", code, err)
	}
	return lines, changes, nil
}

// PutTariffLine creates or replaces the line of (l.Code, l.ValidFrom), as
// by, and records the change. created tells which. A line must be Valid and
// must not share a day with another line of its code: to change a rate from
// a day, end the line in force the day before and put a new one.
//
// Errors: a VALIDATION_FAILED apperr.Error naming the field,
// ErrTariffLineOverlap.
func (s *Service) PutTariffLine(ctx context.Context, by string, l TariffLine) (created bool, err error) {
	if err := l.Validate(); err != nil {
		return false, invalidTariffLine(err)
	}
	if err := s.seedTariff(ctx); err != nil {
		return false, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		before, err := lockTariffCode(ctx, tx, l.Code)
		if err != nil {
			return err
		}
		var prev *TariffLine
		for i, m := range before {
			if m.ValidFrom == l.ValidFrom {
				prev = &before[i]
			} else if l.overlaps(m) {
				return ErrTariffLineOverlap.With("line %s from %s overlaps the line from %s", l.Code, l.ValidFrom, m.ValidFrom)
			}
		}
		created = prev == nil
		return writeTariffLine(ctx, tx, by, prev, l)
	})
	if err != nil {
		return false, err
	}
	s.tariff.invalidate()
	return created, nil
}

// invalidTariffLine names the field of a Validate error.
func invalidTariffLine(err error) error {
	field := "rates"
	switch {
	case errors.Is(err, ErrTariffCode):
		field = "code"
	case errors.Is(err, ErrTariffDates):
		field = "valid_from"
	}
	return apperr.Invalid([]apperr.FieldError{{Field: field, Code: CodeInvalidValue, Message: err.Error()}})
}

// lockTariffCode serializes changes of one code and returns its lines.
func lockTariffCode(ctx context.Context, tx *sqlx.Tx, code string) ([]TariffLine, error) {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('clearance_tariff:' || $1))`, code); err != nil {
		return nil, fmt.Errorf("lock tariff code %s: %w", code, err)
	}
	var lines []TariffLine
	if err := tx.SelectContext(ctx, &lines, `SELECT `+tariffLineColumns+` FROM clearance_tariff_lines WHERE code = $1`, code); err != nil {
		return nil, fmt.Errorf("read tariff lines %s: %w", code, err)
	}
	return lines, nil
}

// writeTariffLine stores l and its change from prev (nil: created).
func writeTariffLine(ctx context.Context, tx *sqlx.Tx, by string, prev *TariffLine, l TariffLine) error {
	if _, err := tx.ExecContext(ctx, upsertTariffLineSQL, l.Code, l.ValidFrom, l.ValidTo, l.Duty, l.VAT, l.Consumption,
		l.ConsumptionMinPerMlOrG, l.ConsumptionMinPerPiece, l.Description, l.Source, by); err != nil {
		return fmt.Errorf("write tariff line %s from %s: %w", l.Code, l.ValidFrom, err)
	}
	after, err := json.Marshal(l)
	if err != nil {
		return err
	}
	var before []byte
	if prev != nil {
		if before, err = json.Marshal(prev); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO clearance_tariff_changes (code, valid_from, changed_by, before, after)
		VALUES ($1, $2, $3, $4, $5)`, l.Code, l.ValidFrom, by, before, after); err != nil {
		return fmt.Errorf("record tariff change %s from %s: %w", l.Code, l.ValidFrom, err)
	}
	return nil
}

// seedTariff loads the shipped file's version once per process; the first
// process to see a version writes its lines, the others find it loaded.
func (s *Service) seedTariff(ctx context.Context) error {
	return s.tariff.seed.Do(func() error {
		shipped, err := ShippedTariff()
		if err != nil {
			return err
		}
		by := "tariff file " + shipped.Version
		return s.inTx(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO clearance_tariff_versions (version) VALUES ($1) ON CONFLICT DO NOTHING`, shipped.Version)
			if err != nil {
				return fmt.Errorf("record tariff version %s: %w", shipped.Version, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err
			}
			for _, l := range shipped.Lines() {
				stored, err := lockTariffCode(ctx, tx, l.Code)
				if err != nil {
					return err
				}
				var prev *TariffLine
				for i, m := range stored {
					if m.ValidFrom == l.ValidFrom {
						prev = &stored[i]
					} else if l.overlaps(m) {
						return ErrTariffLineOverlap.With("tariff file %s: line %s from %s overlaps the stored line from %s", shipped.Version, l.Code, l.ValidFrom, m.ValidFrom)
					}
				}
				if prev != nil && equalTariffLines(*prev, l) {
					continue
				}
				if err := writeTariffLine(ctx, tx, by, prev, l); err != nil {
					return err
				}
			}
			slog.InfoContext(ctx, "tariff file loaded", "version", shipped.Version)
			return nil
		})
	})
}

func equalTariffLines(a, b TariffLine) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// loadTariff reads the whole table.
func loadTariff(ctx context.Context, q querier) (*Tariff, error) {
	var lines []TariffLine
	if err := q.SelectContext(ctx, &lines, `SELECT `+tariffLineColumns+` FROM clearance_tariff_lines`); err != nil {
		return nil, fmt.Errorf("load tariff: %w", err)
	}
	return NewTariff("stored", lines)
}

// tariffCacheTTL is how long another process's change may take to be used.
const tariffCacheTTL = time.Minute

// tariffCache keeps the tariff in memory: every evaluation reads it, and it
// changes only with a new file version or an operator's change.
type tariffCache struct {
	seed    onceOK
	mu      sync.Mutex
	tariff  *Tariff
	expires time.Time
}

func (s *Service) currentTariff(ctx context.Context) (*Tariff, error) {
	if err := s.seedTariff(ctx); err != nil {
		return nil, err
	}
	c := &s.tariff
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tariff != nil && time.Now().Before(c.expires) {
		return c.tariff, nil
	}
	t, err := loadTariff(ctx, s.db)
	if err != nil {
		return nil, err
	}
	c.tariff, c.expires = t, time.Now().Add(tariffCacheTTL)
	return t, nil
}

func (c *tariffCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tariff = nil
}

// onceOK runs fn until it first succeeds; a failure (the database down) is
// tried again by the next caller.
type onceOK struct {
	mu   sync.Mutex
	done bool
}

// Do runs fn unless it succeeded before.
func (o *onceOK) Do(fn func() error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return nil
	}
	if err := fn(); err != nil {
		return err
	}
	o.done = true
	return nil
}

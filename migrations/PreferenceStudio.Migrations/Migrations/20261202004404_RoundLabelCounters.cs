using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <summary>
    /// A round's answers counted without counting rows: 16 counter rows per round (an answer adds to one of them, chosen
    /// by its id, so concurrent answers rarely wait for one another's row), summed when the round's count is wanted.
    /// Kept by the labels trigger of ServingCounters, extended here; a pair made gold or ordinary moves its answers
    /// between the shared and the gold side.
    /// </summary>
    public partial class RoundLabelCounters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE round_label_counts (
                    round_id uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
                    shard smallint NOT NULL,
                    shared integer NOT NULL DEFAULT 0,
                    total integer NOT NULL DEFAULT 0,
                    PRIMARY KEY (round_id, shard));

                CREATE OR REPLACE FUNCTION count_round_label(comparison uuid, label uuid, delta integer) RETURNS void LANGUAGE plpgsql AS $$
                DECLARE r uuid; g text;
                BEGIN
                    UPDATE comparisons SET label_count = label_count + delta WHERE id = comparison RETURNING round_id, gold INTO r, g;
                    IF r IS NOT NULL THEN
                        INSERT INTO round_label_counts AS c (round_id, shard, shared, total)
                        VALUES (r, (hashtext(label::text) & 15)::smallint, CASE WHEN g IS NULL THEN delta ELSE 0 END, delta)
                        ON CONFLICT (round_id, shard) DO UPDATE
                            SET shared = c.shared + EXCLUDED.shared, total = c.total + EXCLUDED.total;
                    END IF;
                END $$;

                CREATE OR REPLACE FUNCTION comparisons_count_labels() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        IF NEW.withdrawn_at IS NULL THEN PERFORM count_round_label(NEW.comparison_id, NEW.id, 1); END IF;
                        RETURN NEW;
                    ELSIF TG_OP = 'DELETE' THEN
                        IF OLD.withdrawn_at IS NULL THEN PERFORM count_round_label(OLD.comparison_id, OLD.id, -1); END IF;
                        RETURN OLD;
                    ELSE
                        IF (OLD.withdrawn_at IS NULL) <> (NEW.withdrawn_at IS NULL) OR OLD.comparison_id <> NEW.comparison_id THEN
                            IF OLD.withdrawn_at IS NULL THEN PERFORM count_round_label(OLD.comparison_id, OLD.id, -1); END IF;
                            IF NEW.withdrawn_at IS NULL THEN PERFORM count_round_label(NEW.comparison_id, NEW.id, 1); END IF;
                        END IF;
                        RETURN NEW;
                    END IF;
                END $$;

                CREATE FUNCTION comparisons_gold_moves_counts() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.round_id IS NOT NULL AND NEW.label_count <> 0 AND (OLD.gold IS NULL) <> (NEW.gold IS NULL) THEN
                        INSERT INTO round_label_counts AS c (round_id, shard, shared, total)
                        VALUES (NEW.round_id, 0, CASE WHEN NEW.gold IS NULL THEN NEW.label_count ELSE -NEW.label_count END, 0)
                        ON CONFLICT (round_id, shard) DO UPDATE SET shared = c.shared + EXCLUDED.shared;
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER comparisons_gold_counts AFTER UPDATE OF gold ON comparisons
                    FOR EACH ROW EXECUTE FUNCTION comparisons_gold_moves_counts();

                INSERT INTO round_label_counts (round_id, shard, shared, total)
                SELECT round_id, 0, coalesce(sum(label_count) FILTER (WHERE gold IS NULL), 0), coalesce(sum(label_count), 0)
                FROM comparisons WHERE round_id IS NOT NULL GROUP BY round_id;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS comparisons_gold_counts ON comparisons;
                DROP FUNCTION IF EXISTS comparisons_gold_moves_counts();
                CREATE OR REPLACE FUNCTION comparisons_count_labels() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        IF NEW.withdrawn_at IS NULL THEN
                            UPDATE comparisons SET label_count = label_count + 1 WHERE id = NEW.comparison_id;
                        END IF;
                        RETURN NEW;
                    ELSIF TG_OP = 'DELETE' THEN
                        IF OLD.withdrawn_at IS NULL THEN
                            UPDATE comparisons SET label_count = label_count - 1 WHERE id = OLD.comparison_id;
                        END IF;
                        RETURN OLD;
                    ELSE
                        IF (OLD.withdrawn_at IS NULL) <> (NEW.withdrawn_at IS NULL) OR OLD.comparison_id <> NEW.comparison_id THEN
                            IF OLD.withdrawn_at IS NULL THEN
                                UPDATE comparisons SET label_count = label_count - 1 WHERE id = OLD.comparison_id;
                            END IF;
                            IF NEW.withdrawn_at IS NULL THEN
                                UPDATE comparisons SET label_count = label_count + 1 WHERE id = NEW.comparison_id;
                            END IF;
                        END IF;
                        RETURN NEW;
                    END IF;
                END $$;
                DROP FUNCTION IF EXISTS count_round_label(uuid, uuid, integer);
                DROP TABLE IF EXISTS round_label_counts;
                """);
        }
    }
}

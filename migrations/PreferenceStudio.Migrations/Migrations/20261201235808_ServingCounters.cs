using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class ServingCounters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "label_count",
                table: "comparisons",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "serve_count",
                table: "comparisons",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "ix_comparisons_gold",
                table: "comparisons",
                column: "round_id",
                filter: "gold IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_comparisons_own",
                table: "comparisons",
                columns: new[] { "round_id", "for_rater_id" },
                filter: "for_rater_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_comparisons_serving",
                table: "comparisons",
                columns: new[] { "round_id", "label_count", "serve_count", "ordinal" },
                filter: "gold IS NULL AND for_rater_id IS NULL");

            // The counters are kept by the database itself, so every path that adds, withdraws or deletes a label or a
            // serving (answers, undo, erasure, import, cascades) keeps them right without the app remembering to.
            migrationBuilder.Sql("""
                CREATE FUNCTION comparisons_count_labels() RETURNS trigger LANGUAGE plpgsql AS $$
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
                CREATE TRIGGER labels_count AFTER INSERT OR UPDATE OF withdrawn_at, comparison_id OR DELETE ON labels
                    FOR EACH ROW EXECUTE FUNCTION comparisons_count_labels();

                CREATE FUNCTION comparisons_count_servings() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        UPDATE comparisons SET serve_count = serve_count + 1 WHERE id = NEW.comparison_id;
                        RETURN NEW;
                    ELSE
                        UPDATE comparisons SET serve_count = serve_count - 1 WHERE id = OLD.comparison_id;
                        RETURN OLD;
                    END IF;
                END $$;
                CREATE TRIGGER assignments_count AFTER INSERT OR DELETE ON assignments
                    FOR EACH ROW EXECUTE FUNCTION comparisons_count_servings();

                UPDATE comparisons c SET
                    label_count = (SELECT count(*) FROM labels l WHERE l.comparison_id = c.id AND l.withdrawn_at IS NULL),
                    serve_count = (SELECT count(*) FROM assignments a WHERE a.comparison_id = c.id);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS labels_count ON labels;
                DROP TRIGGER IF EXISTS assignments_count ON assignments;
                DROP FUNCTION IF EXISTS comparisons_count_labels();
                DROP FUNCTION IF EXISTS comparisons_count_servings();
                """);

            migrationBuilder.DropIndex(
                name: "ix_comparisons_gold",
                table: "comparisons");

            migrationBuilder.DropIndex(
                name: "ix_comparisons_own",
                table: "comparisons");

            migrationBuilder.DropIndex(
                name: "ix_comparisons_serving",
                table: "comparisons");

            migrationBuilder.DropColumn(
                name: "label_count",
                table: "comparisons");

            migrationBuilder.DropColumn(
                name: "serve_count",
                table: "comparisons");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class RaterQuality : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Existing campaigns get the same defaults as new ones (a 120 s lease, 1 s "too fast", gold settings).
            migrationBuilder.AddColumn<string>(
                name: "gold",
                table: "comparisons",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "gold_source",
                table: "comparisons",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "exclude_flagged_raters",
                table: "campaigns",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<double>(
                name: "fast_answer_seconds",
                table: "campaigns",
                type: "double precision",
                nullable: false,
                defaultValue: 1.0);

            migrationBuilder.AddColumn<bool>(
                name: "gold_from_true_reward",
                table: "campaigns",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<double>(
                name: "gold_margin",
                table: "campaigns",
                type: "double precision",
                nullable: false,
                defaultValue: 0.5);

            migrationBuilder.AddColumn<int>(
                name: "gold_pairs_per_round",
                table: "campaigns",
                type: "integer",
                nullable: false,
                defaultValue: 10);

            migrationBuilder.AddColumn<double>(
                name: "gold_rate",
                table: "campaigns",
                type: "double precision",
                nullable: false,
                defaultValue: 0.0);

            migrationBuilder.AddColumn<int>(
                name: "labels_per_pair",
                table: "campaigns",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "min_gold_accuracy",
                table: "campaigns",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "practice_gold_pairs",
                table: "campaigns",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "rater_weighting",
                table: "campaigns",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "none");

            migrationBuilder.AddColumn<int>(
                name: "serving_lease_seconds",
                table: "campaigns",
                type: "integer",
                nullable: false,
                defaultValue: 120);

            migrationBuilder.AddColumn<bool>(
                name: "training_override",
                table: "campaign_raters",
                type: "boolean",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "gold",
                table: "comparisons");

            migrationBuilder.DropColumn(
                name: "gold_source",
                table: "comparisons");

            migrationBuilder.DropColumn(
                name: "exclude_flagged_raters",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "fast_answer_seconds",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "gold_from_true_reward",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "gold_margin",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "gold_pairs_per_round",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "gold_rate",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "labels_per_pair",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "min_gold_accuracy",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "practice_gold_pairs",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "rater_weighting",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "serving_lease_seconds",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "training_override",
                table: "campaign_raters");
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class RaterExperience : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_labels_comparison_id_rater_id",
                table: "labels");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "withdrawn_at",
                table: "labels",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "completion_code",
                table: "campaigns",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "completion_url",
                table: "campaigns",
                type: "character varying(2000)",
                maxLength: 2000,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "consent",
                table: "campaigns",
                type: "character varying(20000)",
                maxLength: 20000,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "instructions",
                table: "campaigns",
                type: "character varying(20000)",
                maxLength: 20000,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<int>(
                name: "labels_per_rater",
                table: "campaigns",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "require_full_playback",
                table: "campaigns",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "completed_at",
                table: "campaign_raters",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "consented_at",
                table: "campaign_raters",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "participant_id",
                table: "campaign_raters",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "participant_platform",
                table: "campaign_raters",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "participant_session",
                table: "campaign_raters",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "participant_study",
                table: "campaign_raters",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_labels_comparison_id_rater_id",
                table: "labels",
                columns: new[] { "comparison_id", "rater_id" },
                unique: true,
                filter: "rater_id IS NOT NULL AND withdrawn_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_campaign_raters_campaign_id_participant_platform_participan~",
                table: "campaign_raters",
                columns: new[] { "campaign_id", "participant_platform", "participant_id" },
                unique: true,
                filter: "participant_id IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_labels_comparison_id_rater_id",
                table: "labels");

            // The older schema has no withdrawn answers, and its unique (comparison, rater) index would refuse a
            // withdrawn answer beside the one that replaced it.
            migrationBuilder.Sql("DELETE FROM labels WHERE withdrawn_at IS NOT NULL;");

            migrationBuilder.DropIndex(
                name: "IX_campaign_raters_campaign_id_participant_platform_participan~",
                table: "campaign_raters");

            migrationBuilder.DropColumn(
                name: "withdrawn_at",
                table: "labels");

            migrationBuilder.DropColumn(
                name: "completion_code",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "completion_url",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "consent",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "instructions",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "labels_per_rater",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "require_full_playback",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "completed_at",
                table: "campaign_raters");

            migrationBuilder.DropColumn(
                name: "consented_at",
                table: "campaign_raters");

            migrationBuilder.DropColumn(
                name: "participant_id",
                table: "campaign_raters");

            migrationBuilder.DropColumn(
                name: "participant_platform",
                table: "campaign_raters");

            migrationBuilder.DropColumn(
                name: "participant_session",
                table: "campaign_raters");

            migrationBuilder.DropColumn(
                name: "participant_study",
                table: "campaign_raters");

            migrationBuilder.CreateIndex(
                name: "IX_labels_comparison_id_rater_id",
                table: "labels",
                columns: new[] { "comparison_id", "rater_id" },
                unique: true,
                filter: "rater_id IS NOT NULL");
        }
    }
}

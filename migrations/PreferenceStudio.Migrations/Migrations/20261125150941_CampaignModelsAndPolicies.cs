using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    /// <summary>Campaign choices of reward models, query strategy, environment parameters and policy budget; per-rater policies and pairs; continuous-task policy results.</summary>
    public partial class CampaignModelsAndPolicies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "mean_return",
                table: "rounds",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "mean_return",
                table: "policies",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "rater_id",
                table: "policies",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "for_rater_id",
                table: "comparisons",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string[]>(
                name: "comparison_models",
                table: "campaigns",
                type: "text[]",
                nullable: false,
                defaultValue: new string[0]);

            migrationBuilder.AddColumn<string>(
                name: "environment_parameters",
                table: "campaigns",
                type: "jsonb",
                nullable: false,
                defaultValue: "{}");

            migrationBuilder.AddColumn<bool>(
                name: "personalised_policies",
                table: "campaigns",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "policy_steps",
                table: "campaigns",
                type: "integer",
                nullable: false,
                defaultValue: 50000);

            migrationBuilder.AddColumn<string>(
                name: "query_strategy",
                table: "campaigns",
                type: "character varying(50)",
                maxLength: 50,
                nullable: false,
                defaultValue: "random");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "mean_return",
                table: "rounds");

            migrationBuilder.DropColumn(
                name: "mean_return",
                table: "policies");

            migrationBuilder.DropColumn(
                name: "rater_id",
                table: "policies");

            migrationBuilder.DropColumn(
                name: "for_rater_id",
                table: "comparisons");

            migrationBuilder.DropColumn(
                name: "comparison_models",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "environment_parameters",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "personalised_policies",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "policy_steps",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "query_strategy",
                table: "campaigns");
        }
    }
}

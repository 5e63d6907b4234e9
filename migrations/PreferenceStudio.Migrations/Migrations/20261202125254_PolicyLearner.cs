using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class PolicyLearner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "exploration_steps",
                table: "campaigns",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "policy_learner",
                table: "campaigns",
                type: "text",
                nullable: false,
                defaultValue: "ppo");

            migrationBuilder.AddColumn<bool>(
                name: "surf",
                table: "campaigns",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "exploration_steps",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "policy_learner",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "surf",
                table: "campaigns");
        }
    }
}

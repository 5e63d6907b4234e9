using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class FactorRankings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "hierarchy_pairs_per_round",
                table: "campaigns",
                type: "integer",
                nullable: false,
                defaultValue: 500);

            migrationBuilder.AddColumn<double>(
                name: "hierarchy_weight",
                table: "campaigns",
                type: "double precision",
                nullable: false,
                defaultValue: 1.0);

            migrationBuilder.AddColumn<string>(
                name: "label_source",
                table: "campaigns",
                type: "character varying(20)",
                maxLength: 20,
                nullable: false,
                // Existing campaigns trained on clip labels only.
                defaultValue: "clips");

            migrationBuilder.CreateTable(
                name: "factor_rankings",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    rater_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    factors = table.Column<string[]>(type: "text[]", nullable: false),
                    margins = table.Column<double[]>(type: "double precision[]", nullable: false),
                    source = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_factor_rankings", x => x.id);
                    table.ForeignKey(
                        name: "FK_factor_rankings_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_factor_rankings_raters_rater_id",
                        column: x => x.rater_id,
                        principalTable: "raters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_factor_rankings_campaign_id_rater_id_created_at",
                table: "factor_rankings",
                columns: new[] { "campaign_id", "rater_id", "created_at" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_factor_rankings_rater_id",
                table: "factor_rankings",
                column: "rater_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "factor_rankings");

            migrationBuilder.DropColumn(
                name: "hierarchy_pairs_per_round",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "hierarchy_weight",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "label_source",
                table: "campaigns");
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class JobRetries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "run_after",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "run_after",
                table: "jobs");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <summary>
    /// Actions became vectors (a discrete index is [index], a continuous control [u1, u2, ...]). The columns stay
    /// jsonb; stored action lists of bare numbers are rewritten as lists of one-element arrays, and back on Down.
    /// </summary>
    public partial class ActionVectors : Migration
    {
        private static readonly string[] Tables = ["rollouts", "segments"];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            foreach (var table in Tables)
                migrationBuilder.Sql($"""
                    UPDATE {table} SET actions = (
                        SELECT COALESCE(jsonb_agg(CASE WHEN jsonb_typeof(a) = 'number' THEN jsonb_build_array(a) ELSE a END ORDER BY i), '[]'::jsonb)
                        FROM jsonb_array_elements(actions) WITH ORDINALITY AS e(a, i))
                    WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(actions) AS x(a) WHERE jsonb_typeof(a) = 'number');
                    """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in Tables)
                migrationBuilder.Sql($"""
                    UPDATE {table} SET actions = (
                        SELECT COALESCE(jsonb_agg(a -> 0 ORDER BY i), '[]'::jsonb)
                        FROM jsonb_array_elements(actions) WITH ORDINALITY AS e(a, i))
                    WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(actions) AS x(a) WHERE jsonb_typeof(a) = 'array');
                    """);
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PreferenceStudio.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "campaigns",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    environment = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    board = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    segment_length = table.Column<int>(type: "integer", nullable: false),
                    pairs_per_round = table.Column<int>(type: "integer", nullable: false),
                    labels_per_round = table.Column<int>(type: "integer", nullable: false),
                    round_count = table.Column<int>(type: "integer", nullable: false),
                    seed = table.Column<int>(type: "integer", nullable: false),
                    reward_model = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    join_code = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    current_round = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status_message = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_campaigns", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "raters",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_raters", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "jobs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    round_index = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    lease_owner = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    lease_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_jobs", x => x.id);
                    table.ForeignKey(
                        name: "FK_jobs_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "reward_model_runs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    round_index = table.Column<int>(type: "integer", nullable: false),
                    model_type = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    n_train = table.Column<int>(type: "integer", nullable: false),
                    n_test = table.Column<int>(type: "integer", nullable: false),
                    heldout_accuracy = table.Column<double>(type: "double precision", nullable: true),
                    heldout_log_lik = table.Column<double>(type: "double precision", nullable: true),
                    metrics = table.Column<string>(type: "jsonb", nullable: false),
                    checkpoint_path = table.Column<string>(type: "text", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_reward_model_runs", x => x.id);
                    table.ForeignKey(
                        name: "FK_reward_model_runs_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "policies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    round_index = table.Column<int>(type: "integer", nullable: false),
                    kind = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    checkpoint_path = table.Column<string>(type: "text", nullable: true),
                    reward_model_run_id = table.Column<Guid>(type: "uuid", nullable: true),
                    scaled_return = table.Column<double>(type: "double precision", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_policies", x => x.id);
                    table.ForeignKey(
                        name: "FK_policies_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_policies_reward_model_runs_reward_model_run_id",
                        column: x => x.reward_model_run_id,
                        principalTable: "reward_model_runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "rounds",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    index = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    policy_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    closed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    heldout_accuracy = table.Column<double>(type: "double precision", nullable: true),
                    heldout_log_lik = table.Column<double>(type: "double precision", nullable: true),
                    scaled_return = table.Column<double>(type: "double precision", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rounds", x => x.id);
                    table.ForeignKey(
                        name: "FK_rounds_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_rounds_policies_policy_id",
                        column: x => x.policy_id,
                        principalTable: "policies",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "rollouts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    round_id = table.Column<Guid>(type: "uuid", nullable: false),
                    policy_id = table.Column<Guid>(type: "uuid", nullable: true),
                    episode_index = table.Column<int>(type: "integer", nullable: false),
                    seed = table.Column<int>(type: "integer", nullable: false),
                    states = table.Column<string>(type: "jsonb", nullable: false),
                    actions = table.Column<string>(type: "jsonb", nullable: false),
                    true_return = table.Column<double>(type: "double precision", nullable: true),
                    epsilon = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollouts", x => x.id);
                    table.ForeignKey(
                        name: "FK_rollouts_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_rollouts_policies_policy_id",
                        column: x => x.policy_id,
                        principalTable: "policies",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_rollouts_rounds_round_id",
                        column: x => x.round_id,
                        principalTable: "rounds",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "segments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    round_id = table.Column<Guid>(type: "uuid", nullable: true),
                    rollout_id = table.Column<Guid>(type: "uuid", nullable: true),
                    start_step = table.Column<int>(type: "integer", nullable: true),
                    states = table.Column<string>(type: "jsonb", nullable: false),
                    actions = table.Column<string>(type: "jsonb", nullable: false),
                    features = table.Column<string>(type: "jsonb", nullable: true),
                    true_return = table.Column<double>(type: "double precision", nullable: true),
                    content_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_segments", x => x.id);
                    table.ForeignKey(
                        name: "FK_segments_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_segments_rollouts_rollout_id",
                        column: x => x.rollout_id,
                        principalTable: "rollouts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_segments_rounds_round_id",
                        column: x => x.round_id,
                        principalTable: "rounds",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "clips",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    segment_id = table.Column<Guid>(type: "uuid", nullable: false),
                    round_id = table.Column<Guid>(type: "uuid", nullable: true),
                    file_name = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    poster_file_name = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    frames = table.Column<int>(type: "integer", nullable: false),
                    width = table.Column<int>(type: "integer", nullable: false),
                    height = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    error = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    rendered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_clips", x => x.id);
                    table.ForeignKey(
                        name: "FK_clips_rounds_round_id",
                        column: x => x.round_id,
                        principalTable: "rounds",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_clips_segments_segment_id",
                        column: x => x.segment_id,
                        principalTable: "segments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "comparisons",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    round_id = table.Column<Guid>(type: "uuid", nullable: true),
                    round_index = table.Column<int>(type: "integer", nullable: true),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    left_segment_id = table.Column<Guid>(type: "uuid", nullable: false),
                    right_segment_id = table.Column<Guid>(type: "uuid", nullable: false),
                    left_clip_id = table.Column<Guid>(type: "uuid", nullable: true),
                    right_clip_id = table.Column<Guid>(type: "uuid", nullable: true),
                    policy_id = table.Column<Guid>(type: "uuid", nullable: true),
                    external_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    group = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    is_held_out = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_comparisons", x => x.id);
                    table.ForeignKey(
                        name: "FK_comparisons_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_comparisons_clips_left_clip_id",
                        column: x => x.left_clip_id,
                        principalTable: "clips",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_comparisons_clips_right_clip_id",
                        column: x => x.right_clip_id,
                        principalTable: "clips",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_comparisons_policies_policy_id",
                        column: x => x.policy_id,
                        principalTable: "policies",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_comparisons_rounds_round_id",
                        column: x => x.round_id,
                        principalTable: "rounds",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_comparisons_segments_left_segment_id",
                        column: x => x.left_segment_id,
                        principalTable: "segments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_comparisons_segments_right_segment_id",
                        column: x => x.right_segment_id,
                        principalTable: "segments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "assignments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    comparison_id = table.Column<Guid>(type: "uuid", nullable: false),
                    rater_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    shown_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_assignments", x => x.id);
                    table.ForeignKey(
                        name: "FK_assignments_comparisons_comparison_id",
                        column: x => x.comparison_id,
                        principalTable: "comparisons",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_assignments_raters_rater_id",
                        column: x => x.rater_id,
                        principalTable: "raters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "labels",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    comparison_id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    rater_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    choice = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    shown_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    answered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    response_milliseconds = table.Column<int>(type: "integer", nullable: true),
                    idempotency_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    source = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labels", x => x.id);
                    table.ForeignKey(
                        name: "FK_labels_campaigns_campaign_id",
                        column: x => x.campaign_id,
                        principalTable: "campaigns",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_labels_comparisons_comparison_id",
                        column: x => x.comparison_id,
                        principalTable: "comparisons",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_labels_raters_rater_id",
                        column: x => x.rater_id,
                        principalTable: "raters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateIndex(
                name: "IX_assignments_comparison_id_rater_id",
                table: "assignments",
                columns: new[] { "comparison_id", "rater_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_assignments_rater_id",
                table: "assignments",
                column: "rater_id");

            migrationBuilder.CreateIndex(
                name: "IX_campaigns_created_at",
                table: "campaigns",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "IX_campaigns_join_code",
                table: "campaigns",
                column: "join_code",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_clips_round_id",
                table: "clips",
                column: "round_id");

            migrationBuilder.CreateIndex(
                name: "IX_clips_segment_id",
                table: "clips",
                column: "segment_id");

            migrationBuilder.CreateIndex(
                name: "IX_clips_status",
                table: "clips",
                column: "status");

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_campaign_id_external_id",
                table: "comparisons",
                columns: new[] { "campaign_id", "external_id" },
                unique: true,
                filter: "external_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_campaign_id_round_index_ordinal",
                table: "comparisons",
                columns: new[] { "campaign_id", "round_index", "ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_left_clip_id",
                table: "comparisons",
                column: "left_clip_id");

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_left_segment_id",
                table: "comparisons",
                column: "left_segment_id");

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_policy_id",
                table: "comparisons",
                column: "policy_id");

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_right_clip_id",
                table: "comparisons",
                column: "right_clip_id");

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_right_segment_id",
                table: "comparisons",
                column: "right_segment_id");

            migrationBuilder.CreateIndex(
                name: "IX_comparisons_round_id",
                table: "comparisons",
                column: "round_id");

            migrationBuilder.CreateIndex(
                name: "IX_jobs_campaign_id_kind_round_index",
                table: "jobs",
                columns: new[] { "campaign_id", "kind", "round_index" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_jobs_status_created_at",
                table: "jobs",
                columns: new[] { "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_labels_campaign_id_created_at",
                table: "labels",
                columns: new[] { "campaign_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_labels_comparison_id",
                table: "labels",
                column: "comparison_id");

            migrationBuilder.CreateIndex(
                name: "IX_labels_comparison_id_rater_id",
                table: "labels",
                columns: new[] { "comparison_id", "rater_id" },
                unique: true,
                filter: "rater_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_labels_idempotency_key",
                table: "labels",
                column: "idempotency_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_labels_rater_id",
                table: "labels",
                column: "rater_id");

            migrationBuilder.CreateIndex(
                name: "IX_policies_campaign_id_round_index",
                table: "policies",
                columns: new[] { "campaign_id", "round_index" });

            migrationBuilder.CreateIndex(
                name: "IX_policies_reward_model_run_id",
                table: "policies",
                column: "reward_model_run_id");

            migrationBuilder.CreateIndex(
                name: "IX_reward_model_runs_campaign_id_round_index",
                table: "reward_model_runs",
                columns: new[] { "campaign_id", "round_index" });

            migrationBuilder.CreateIndex(
                name: "IX_rollouts_campaign_id",
                table: "rollouts",
                column: "campaign_id");

            migrationBuilder.CreateIndex(
                name: "IX_rollouts_policy_id",
                table: "rollouts",
                column: "policy_id");

            migrationBuilder.CreateIndex(
                name: "IX_rollouts_round_id_episode_index",
                table: "rollouts",
                columns: new[] { "round_id", "episode_index" });

            migrationBuilder.CreateIndex(
                name: "IX_rounds_campaign_id_index",
                table: "rounds",
                columns: new[] { "campaign_id", "index" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_rounds_policy_id",
                table: "rounds",
                column: "policy_id");

            migrationBuilder.CreateIndex(
                name: "IX_segments_campaign_id_content_hash",
                table: "segments",
                columns: new[] { "campaign_id", "content_hash" });

            migrationBuilder.CreateIndex(
                name: "IX_segments_rollout_id",
                table: "segments",
                column: "rollout_id");

            migrationBuilder.CreateIndex(
                name: "IX_segments_round_id",
                table: "segments",
                column: "round_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "assignments");

            migrationBuilder.DropTable(
                name: "jobs");

            migrationBuilder.DropTable(
                name: "labels");

            migrationBuilder.DropTable(
                name: "comparisons");

            migrationBuilder.DropTable(
                name: "raters");

            migrationBuilder.DropTable(
                name: "clips");

            migrationBuilder.DropTable(
                name: "segments");

            migrationBuilder.DropTable(
                name: "rollouts");

            migrationBuilder.DropTable(
                name: "rounds");

            migrationBuilder.DropTable(
                name: "policies");

            migrationBuilder.DropTable(
                name: "reward_model_runs");

            migrationBuilder.DropTable(
                name: "campaigns");
        }
    }
}

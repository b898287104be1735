using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class AddDefects : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Defects",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ProjectId = table.Column<long>(type: "INTEGER", nullable: false),
                    Title = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    DescriptionMarkdown = table.Column<string>(type: "TEXT", nullable: false),
                    Component = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    ReportedById = table.Column<string>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", nullable: true),
                    IsBlocking = table.Column<bool>(type: "INTEGER", nullable: false),
                    IsDemo = table.Column<bool>(type: "INTEGER", nullable: false),
                    Reporter = table.Column<int>(type: "INTEGER", nullable: false),
                    Manifestation = table.Column<int>(type: "INTEGER", nullable: false),
                    Stage = table.Column<int>(type: "INTEGER", nullable: false),
                    Impact = table.Column<int>(type: "INTEGER", nullable: false),
                    Type = table.Column<int>(type: "INTEGER", nullable: false),
                    RootCause = table.Column<int>(type: "INTEGER", nullable: false),
                    OtherText = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    RunId = table.Column<long>(type: "INTEGER", nullable: true),
                    FailingLayer = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    TaskId = table.Column<long>(type: "INTEGER", nullable: true),
                    DesignDocumentId = table.Column<long>(type: "INTEGER", nullable: true),
                    ChecklistItemId = table.Column<long>(type: "INTEGER", nullable: true),
                    DiscrepancyId = table.Column<long>(type: "INTEGER", nullable: true),
                    EnvironmentJson = table.Column<string>(type: "TEXT", nullable: true),
                    Diagnosis = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    FixCommit = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    VerifyingRunId = table.Column<long>(type: "INTEGER", nullable: true),
                    WontFixReason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ClosedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Version = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Defects", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Defects_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Defects_ProjectId_Status",
                table: "Defects",
                columns: new[] { "ProjectId", "Status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Defects");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class CurveTiersFromSixteenSteps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The 4-step tier is never drawn (a range narrow enough for it holds few enough points to draw them all)
            // and cost three quarters of the tier writes: its rows go (docs/decisions/curves-rollup-tiers.md).
            migrationBuilder.Sql("""DELETE FROM "CurveRollups" WHERE "Level" = 2""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to restore: the tiers are rebuilt from the points when a series' state is deleted.
        }
    }
}

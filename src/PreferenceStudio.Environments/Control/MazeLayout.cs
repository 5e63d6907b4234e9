namespace PreferenceStudio.Environments.Control;

/// <summary>
/// A maze of unit cells for <see cref="MultiGoalNavigation"/>: walls, up to four goal cells (in kind order) and the
/// shortest-path (BFS, 4-connected) distance from every free cell to each goal. Cell (row, col) covers
/// x in [col, col + 1], y in [row, row + 1]; y grows downward as rows do.
/// </summary>
public sealed class MazeLayout
{
    /// <summary>D4RL maze2d-large (9 x 12), the maze of VPL's navigation experiments.</summary>
    public static readonly MazeLayout Large = new("large",
    [
        "############",
        "#....#.....#",
        "#.##.#.#.#.#",
        "#......#...#",
        "#.####.###.#",
        "#..#.#.....#",
        "##.#.#.#.###",
        "#..#...#...#",
        "############",
    ], [(1, 10), (7, 1), (1, 1), (7, 10)]);

    /// <summary>D4RL maze2d-medium (8 x 8): a quicker task with the same structure.</summary>
    public static readonly MazeLayout Medium = new("medium",
    [
        "########",
        "#..##..#",
        "#..#...#",
        "##...###",
        "#..#...#",
        "#.#..#.#",
        "#...#..#",
        "########",
    ], [(1, 6), (6, 1), (1, 1), (6, 6)]);

    /// <summary>D4RL maze2d-umaze (5 x 5): the smallest, for tests and smoke runs.</summary>
    public static readonly MazeLayout UMaze = new("umaze",
    [
        "#####",
        "#...#",
        "###.#",
        "#...#",
        "#####",
    ], [(3, 1), (1, 1), (1, 3), (3, 3)]);

    /// <summary>The mazes by the registry's "maze" parameter: 0 large, 1 medium, 2 U-maze.</summary>
    public static IReadOnlyList<MazeLayout> ByIndex { get; } = [Large, Medium, UMaze];

    private readonly bool[,] _wall;
    private readonly int[][,] _distance;

    public MazeLayout(string name, IReadOnlyList<string> rows, IReadOnlyList<(int Row, int Col)> goals)
    {
        Name = name;
        Rows = rows.Count;
        Cols = rows[0].Length;
        _wall = new bool[Rows, Cols];
        for (int r = 0; r < Rows; r++)
        {
            if (rows[r].Length != Cols) throw new ArgumentException($"Maze '{name}': row {r} has {rows[r].Length} cells, not {Cols}.", nameof(rows));
            for (int c = 0; c < Cols; c++) _wall[r, c] = rows[r][c] == '#';
        }
        foreach (var (r, c) in goals)
            if (IsWall(r, c)) throw new ArgumentException($"Maze '{name}': goal ({r}, {c}) is inside a wall.", nameof(goals));
        Goals = goals.ToArray();
        _distance = Goals.Select(g => Bfs(g.Row, g.Col)).ToArray();
        MaxDistance = _distance.Select(d =>
        {
            int max = 0;
            foreach (var v in d) if (v > max) max = v;
            return max;
        }).ToArray();
        FreeCells = Enumerable.Range(0, Rows * Cols).Select(i => (i / Cols, i % Cols)).Where(p => !_wall[p.Item1, p.Item2]).ToArray();
    }

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }
    public IReadOnlyList<(int Row, int Col)> Goals { get; }
    public IReadOnlyList<(int Row, int Col)> FreeCells { get; }

    /// <summary>Largest BFS distance to goal k over the free cells reachable from it (the normaliser of its value).</summary>
    public IReadOnlyList<int> MaxDistance { get; }

    /// <summary>Cells outside the grid count as walls.</summary>
    public bool IsWall(int row, int col) => row < 0 || row >= Rows || col < 0 || col >= Cols || _wall[row, col];

    /// <summary>Moves between 4-neighbouring free cells from (row, col) to goal k; -1 when it cannot be reached.</summary>
    public int Distance(int goal, int row, int col) => _distance[goal][row, col];

    private int[,] Bfs(int goalRow, int goalCol)
    {
        var d = new int[Rows, Cols];
        for (int r = 0; r < Rows; r++) for (int c = 0; c < Cols; c++) d[r, c] = -1;
        var queue = new Queue<(int, int)>();
        d[goalRow, goalCol] = 0;
        queue.Enqueue((goalRow, goalCol));
        while (queue.Count > 0)
        {
            var (r, c) = queue.Dequeue();
            foreach (var (nr, nc) in new[] { (r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1) })
            {
                if (IsWall(nr, nc) || d[nr, nc] >= 0) continue;
                d[nr, nc] = d[r, c] + 1;
                queue.Enqueue((nr, nc));
            }
        }
        return d;
    }
}

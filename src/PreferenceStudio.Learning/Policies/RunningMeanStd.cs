namespace PreferenceStudio.Learning.Policies;

/// <summary>
/// Running mean and variance of vectors (Chan et al.'s parallel update), for observation and return normalisation
/// as in SB3's VecNormalize. Starts with a tiny pseudo-count so the first update dominates.
/// </summary>
public sealed class RunningMeanStd
{
    private const double Epsilon = 1e-8;

    public RunningMeanStd(int size)
    {
        Mean = new double[size];
        Variance = Enumerable.Repeat(1.0, size).ToArray();
        Count = 1e-4;
    }

    public RunningMeanStd(double[] mean, double[] variance, double count)
    {
        if (mean.Length != variance.Length) throw new ArgumentException("Mean and variance differ in length.");
        Mean = (double[])mean.Clone();
        Variance = (double[])variance.Clone();
        Count = count;
    }

    public double[] Mean { get; }

    public double[] Variance { get; }

    public double Count { get; private set; }

    public int Size => Mean.Length;

    public void Update(double[] x) => Update([x]);

    public void Update(IReadOnlyList<double[]> batch)
    {
        if (batch.Count == 0) return;
        int n = batch.Count;
        for (int j = 0; j < Size; j++)
        {
            double m = 0;
            for (int i = 0; i < n; i++) m += batch[i][j];
            m /= n;
            double v = 0;
            for (int i = 0; i < n; i++) v += (batch[i][j] - m) * (batch[i][j] - m);
            v /= n;
            double delta = m - Mean[j], total = Count + n;
            double m2 = Variance[j] * Count + v * n + delta * delta * Count * n / total;
            Mean[j] += delta * n / total;
            Variance[j] = m2 / total;
        }
        Count += n;
    }

    /// <summary>(x - mean) / std, clipped to [-clip, clip] so a rare extreme state cannot blow up the network input.</summary>
    public void Normalize(ReadOnlySpan<double> x, Span<float> into, double clip = 10)
    {
        for (int j = 0; j < Size; j++)
            into[j] = (float)Math.Clamp((x[j] - Mean[j]) / Math.Sqrt(Variance[j] + Epsilon), -clip, clip);
    }

    public double Std(int j) => Math.Sqrt(Variance[j] + Epsilon);
}

using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.Policies.Sac;

/// <summary>
/// SAC's replay buffer, a ring of the last <see cref="Capacity"/> transitions. Besides what the update reads
/// (observation, action scaled to [-1, 1], reward, next observation, terminal flag) each transition keeps the reward
/// model's step features and the true reward, so <see cref="Relabel"/> can recompute every stored reward when the
/// learned reward model changes (PEBBLE's relabelling: experience gathered under an old reward is not thrown away).
/// </summary>
public sealed class ReplayBuffer
{
    private readonly float[] _observations, _next, _actions, _rewards;
    private readonly double[] _trueRewards;
    private readonly bool[] _terminal, _episodeEnd;
    private readonly float[][] _features;
    private int _head;

    public ReplayBuffer(int capacity, int observationSize, int actionSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        _observations = new float[capacity * observationSize];
        _next = new float[capacity * observationSize];
        _actions = new float[capacity * actionSize];
        _rewards = new float[capacity];
        _trueRewards = new double[capacity];
        _terminal = new bool[capacity];
        _episodeEnd = new bool[capacity];
        _features = new float[capacity][];
    }

    public int Capacity { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }

    /// <summary>Transitions held (at most <see cref="Capacity"/>).</summary>
    public int Count { get; private set; }

    /// <summary>Transitions ever added, including those the ring has dropped.</summary>
    public long Added { get; private set; }

    /// <summary>Index of the transition added <paramref name="back"/> additions ago (0: the latest).</summary>
    public int Recent(int back) => ((_head - 1 - back) % Capacity + Capacity) % Capacity;

    /// <summary>
    /// Stores a transition with reward 0 until it is labelled; returns its index. <paramref name="episodeEnd"/> marks the
    /// last transition of an episode (terminal or cut by the step limit): n-step returns stop there.
    /// </summary>
    public int Add(ReadOnlySpan<float> observation, ReadOnlySpan<float> scaledAction, ReadOnlySpan<float> next, bool terminal,
        float[] features, double trueReward, bool episodeEnd = false)
    {
        int i = _head;
        observation.CopyTo(_observations.AsSpan(i * ObservationSize, ObservationSize));
        next.CopyTo(_next.AsSpan(i * ObservationSize, ObservationSize));
        scaledAction.CopyTo(_actions.AsSpan(i * ActionSize, ActionSize));
        _terminal[i] = terminal;
        _episodeEnd[i] = terminal || episodeEnd;
        _features[i] = features;
        _trueRewards[i] = trueReward;
        _rewards[i] = 0;
        _head = (_head + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
        Added++;
        return i;
    }

    public ReadOnlySpan<float> Observation(int i) => _observations.AsSpan(i * ObservationSize, ObservationSize);
    public ReadOnlySpan<float> Next(int i) => _next.AsSpan(i * ObservationSize, ObservationSize);
    public ReadOnlySpan<float> Action(int i) => _actions.AsSpan(i * ActionSize, ActionSize);
    public float Reward(int i) => _rewards[i];
    public double TrueReward(int i) => _trueRewards[i];
    public bool Terminal(int i) => _terminal[i];
    public bool EpisodeEnd(int i) => _episodeEnd[i];
    public float[] Features(int i) => _features[i];

    /// <summary>Sets the reward of the given transitions.</summary>
    public void SetRewards(IReadOnlyList<int> indices, IReadOnlyList<double> rewards)
    {
        for (int k = 0; k < indices.Count; k++) _rewards[indices[k]] = (float)rewards[k];
    }

    /// <summary>
    /// Recomputes the reward of every stored transition with <paramref name="label"/> (given step features, in chunks
    /// so a learned model runs in batches). Returns how many rewards changed.
    /// </summary>
    public int Relabel(Func<IReadOnlyList<int>, double[]> label, int chunk = 8_192)
    {
        int changed = 0;
        var indices = new List<int>(Math.Min(chunk, Count));
        for (int start = 0; start < Count; start += chunk)
        {
            indices.Clear();
            for (int i = start; i < Math.Min(Count, start + chunk); i++) indices.Add(i);
            var values = label(indices);
            for (int k = 0; k < indices.Count; k++)
            {
                float v = (float)values[k];
                if (v != _rewards[indices[k]]) changed++;
                _rewards[indices[k]] = v;
            }
        }
        return changed;
    }

    /// <summary>
    /// Copies a batch into flat arrays for the update, as n-step returns: from each sampled transition the rewards of up to
    /// <paramref name="steps"/> consecutive transitions of its episode, discounted, and the observation after the last;
    /// <paramref name="discount"/> receives gamma^m for the m steps taken (0 where the episode terminated). The walk
    /// stops at an episode's end and at the newest transition. One step is the usual one-step target.
    /// </summary>
    public void Gather(IReadOnlyList<int> indices, int steps, double gamma, float[] observations, float[] actions, float[] rewards,
        float[] next, float[] discount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        int newest = Recent(0);
        for (int k = 0; k < indices.Count; k++)
        {
            int i = indices[k];
            Observation(i).CopyTo(observations.AsSpan(k * ObservationSize, ObservationSize));
            Action(i).CopyTo(actions.AsSpan(k * ActionSize, ActionSize));
            double sum = 0, factor = 1;
            int j = i;
            for (int m = 0; ; m++)
            {
                sum += factor * _rewards[j];
                factor *= gamma;
                if (_terminal[j]) { factor = 0; break; }
                if (_episodeEnd[j] || j == newest || m + 1 >= steps) break;
                j = (j + 1) % Capacity;
            }
            Next(j).CopyTo(next.AsSpan(k * ObservationSize, ObservationSize));
            rewards[k] = (float)sum;
            discount[k] = (float)factor;
        }
    }

    /// <summary>Writes the held transitions and the ring's position.</summary>
    internal void Write(BinaryWriter w)
    {
        w.Write(Count);
        w.Write(_head);
        w.Write(Added);
        for (int i = 0; i < Count; i++)
        {
            foreach (var v in Observation(i)) w.Write(v);
            foreach (var v in Next(i)) w.Write(v);
            foreach (var v in Action(i)) w.Write(v);
            w.Write(_rewards[i]);
            w.Write(_trueRewards[i]);
            w.Write(_terminal[i]);
            w.Write(_episodeEnd[i]);
            w.Write(_features[i].Length);
            foreach (var v in _features[i]) w.Write(v);
        }
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote into this (empty, same-shaped) buffer. Files of the first format have no
    /// episode ends (<paramref name="withEpisodeEnds"/> false): only terminal transitions end an episode there.
    /// </summary>
    internal void Read(BinaryReader r, bool withEpisodeEnds = true)
    {
        int count = r.ReadInt32(), head = r.ReadInt32();
        long added = r.ReadInt64();
        if (count < 0 || count > Capacity || head < 0 || head >= Capacity)
            throw new InvalidDataException($"The stored replay buffer holds {count} transitions at {head}; this one holds at most {Capacity}.");
        for (int i = 0; i < count; i++)
        {
            for (int k = 0; k < ObservationSize; k++) _observations[i * ObservationSize + k] = r.ReadSingle();
            for (int k = 0; k < ObservationSize; k++) _next[i * ObservationSize + k] = r.ReadSingle();
            for (int k = 0; k < ActionSize; k++) _actions[i * ActionSize + k] = r.ReadSingle();
            _rewards[i] = r.ReadSingle();
            _trueRewards[i] = r.ReadDouble();
            _terminal[i] = r.ReadBoolean();
            _episodeEnd[i] = withEpisodeEnds ? r.ReadBoolean() : _terminal[i];
            var features = new float[r.ReadInt32()];
            for (int k = 0; k < features.Length; k++) features[k] = r.ReadSingle();
            _features[i] = features;
        }
        (Count, _head, Added) = (count, head, added);
    }
}

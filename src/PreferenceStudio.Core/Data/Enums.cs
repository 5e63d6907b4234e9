namespace PreferenceStudio.Core.Data;

/// <summary>Lifecycle of a campaign. Stored as its name.</summary>
public enum CampaignStatus { Draft, Running, Paused, Completed, Failed }

/// <summary>Lifecycle of a round: clips are prepared, labels collected, then a model and policy are trained.</summary>
public enum RoundStatus { Preparing, Open, Training, Completed, Failed }

/// <summary>Whether a clip's video file exists yet.</summary>
public enum ClipStatus { Pending, Rendered, Failed }

/// <summary>Outcome of a reward-model training run.</summary>
public enum RunStatus { Running, Succeeded, Failed }

/// <summary>The steps a campaign's background worker performs.</summary>
public enum JobKind { PrepareRound, TrainRound }

/// <summary>State of a durable background job; see <see cref="JobQueue"/>.</summary>
public enum JobStatus { Pending, Running, Succeeded, Failed }

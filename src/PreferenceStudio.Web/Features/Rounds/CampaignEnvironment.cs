using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>The environment a campaign runs on, built with the parameters it was created with.</summary>
public static class CampaignEnvironment
{
    public static IPreferenceEnvironment Create(Campaign campaign) =>
        EnvironmentRegistry.Create(campaign.Environment, campaign.EnvironmentParameters);
}

// Azure for one school's supervision bot: Azure Bot (single tenant), Linux App Service (Python 3.11) with a
// system-assigned managed identity, PostgreSQL Flexible Server on a private subnet, Key Vault for the secrets,
// Application Insights. Deployed by `atk provision` (m365agents.yml) or `az deployment group create` (DEPLOY.md).
//
// The App Service settings below are exactly the names the bot reads (bot/settings.py aliases and GRAPH_* from
// graph/settings.py); tests/infra/test_bicep.py compares the two lists, parses this file with pycep-parser and scans
// it with checkov. Secrets never appear as plain app settings: they are Key Vault references resolved by the app's
// managed identity.

@description('Base for every resource name (letters and digits, 3-16). Web app: <base>-app.azurewebsites.net.')
@minLength(3)
@maxLength(16)
param resourceBaseName string

param location string = resourceGroup().location

@description('The bot\'s Entra app registration (single tenant): application (client) id. env: BOT_ID.')
param botAppId string

@description('The Entra app registration\'s client secret; stored in Key Vault only.')
@secure()
param botAppPassword string

@description('The school\'s Entra tenant id.')
param tenantId string = tenant().tenantId

@description('The app\'s id in the school\'s Teams app catalog (Teams admin center → Manage apps), for installing it for staff. Empty until the package is published: the bot then refuses to start and says so.')
param teamsCatalogAppId string = ''

@description('The Teams app\'s id from its manifest (TEAMS_APP_ID, written by teamsApp/create): the deep link to the dashboard tab on the DSL\'s cards.')
param teamsAppId string = ''

@description('The Safeguarding channel\'s team and channel ids (or leave empty and set driveId/folderId).')
param safeguardingTeamId string = ''
param safeguardingChannelId string = ''

@description('With Sites.Selected (infra/PERMISSIONS.md §2): the channel folder\'s drive id and item id.')
param channelDriveId string = ''
param channelFolderId string = ''

@description('Where the school YAML lives on the App Service\'s persistent /home share.')
param schoolConfigPath string = '/home/site/config/school.yaml'

@description('PostgreSQL administrator login; its password goes only into the Key Vault secret DATABASE-URL.')
param dbAdminLogin string = 'kestrel'

@secure()
@minLength(16)
param dbAdminPassword string

param appServiceSku string = 'P0v3'
param postgresSku string = 'Standard_B1ms'
param postgresTier string = 'Burstable'

@description('Instances of the web app. 2+ need a plan that allows it; the bot is safe with several (PostgreSQL claims).')
@minValue(1)
@maxValue(3)
param instanceCount int = 1

@description('Deployment time; only used to date the Key Vault secrets\' expiry (utcNow() is allowed only here).')
param deployedAt string = utcNow()

var names = {
  plan: '${resourceBaseName}-plan'
  app: '${resourceBaseName}-app'
  bot: '${resourceBaseName}-bot'
  vault: '${resourceBaseName}-kv'
  db: '${resourceBaseName}-pg'
  vnet: '${resourceBaseName}-vnet'
  logs: '${resourceBaseName}-logs'
  insights: '${resourceBaseName}-ai'
}
var databaseName = 'supervision'
var secretExpiry = dateTimeToEpoch(dateTimeAdd(deployedAt, 'P24M'))
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

// ---------------------------------------------------------------- network: the database is reachable only from the app

resource vnet 'Microsoft.Network/virtualNetworks@2023-09-01' = {
  name: names.vnet
  location: location
  properties: {
    addressSpace: { addressPrefixes: [ '10.42.0.0/16' ] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: '10.42.1.0/24'
          delegations: [ { name: 'web', properties: { serviceName: 'Microsoft.Web/serverFarms' } } ]
        }
      }
      {
        name: 'endpoints'
        properties: { addressPrefix: '10.42.3.0/24' }
      }
      {
        name: 'db'
        properties: {
          addressPrefix: '10.42.2.0/24'
          delegations: [ { name: 'pg', properties: { serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' } } ]
        }
      }
    ]
  }
}

resource pgDns 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: '${names.db}.private.postgres.database.azure.com'
  location: 'global'
}

resource pgDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: pgDns
  name: '${names.vnet}-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: { id: vnet.id }
  }
}

// ---------------------------------------------------------------- monitoring

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: names.logs
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: false
  }
}

// ---------------------------------------------------------------- PostgreSQL

resource db 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: names.db
  location: location
  sku: { name: postgresSku, tier: postgresTier }
  properties: {
    version: '16'
    administratorLogin: dbAdminLogin
    administratorLoginPassword: dbAdminPassword
    storage: { storageSizeGB: 32 }
    backup: {
      backupRetentionDays: 35
      // Geo-redundant backup is not offered on the Burstable tier a school's load fits; 35 days of local backups.
      // Choose General Purpose and set 'Enabled' to copy backups to the paired region.
      geoRedundantBackup: 'Disabled'
    }
    network: {
      delegatedSubnetResourceId: '${vnet.id}/subnets/db'
      privateDnsZoneArmResourceId: pgDns.id
    }
    highAvailability: { mode: 'Disabled' }
  }
  dependsOn: [ pgDnsLink ]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = {
  parent: db
  name: databaseName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// Connections are TLS-only (asyncpg: ssl=require below).
resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2022-12-01' = {
  parent: db
  name: 'require_secure_transport'
  properties: { value: 'on', source: 'user-override' }
}

// ---------------------------------------------------------------- Key Vault: the bot secret and the database URL

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.vault
  location: location
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    // Reached only through the private endpoint below (the app resolves its Key Vault references over the VNet);
    // ARM still writes the secrets at deployment (management plane).
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' }
  }
}

resource vaultDns 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: 'privatelink.vaultcore.azure.net'
  location: 'global'
}

resource vaultDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: vaultDns
  name: '${names.vnet}-kv-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: { id: vnet.id }
  }
}

resource vaultEndpoint 'Microsoft.Network/privateEndpoints@2023-09-01' = {
  name: '${names.vault}-pe'
  location: location
  properties: {
    subnet: { id: '${vnet.id}/subnets/endpoints' }
    privateLinkServiceConnections: [
      { name: 'vault', properties: { privateLinkServiceId: vault.id, groupIds: [ 'vault' ] } }
    ]
  }
}

resource vaultEndpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-09-01' = {
  parent: vaultEndpoint
  name: 'vault'
  properties: {
    privateDnsZoneConfigs: [ { name: 'vault', properties: { privateDnsZoneId: vaultDns.id } } ]
  }
}

resource botSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bot-app-password'
  properties: {
    value: botAppPassword
    contentType: 'Entra app client secret (MicrosoftAppPassword)'
    // Entra client secrets expire (24 months at most); this one is rotated with DEPLOY.md "Rotate the bot secret".
    attributes: { enabled: true, exp: secretExpiry }
  }
}

resource dbSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: 'postgresql+asyncpg://${uriComponent(dbAdminLogin)}:${uriComponent(dbAdminPassword)}@${db.properties.fullyQualifiedDomainName}:5432/${databaseName}?ssl=require'
    contentType: 'SQLAlchemy URL (DATABASE_URL)'
    attributes: { enabled: true, exp: secretExpiry }
  }
}

// ---------------------------------------------------------------- App Service

resource plan 'Microsoft.Web/serverfarms@2023-01-01' = {
  name: names.plan
  location: location
  kind: 'linux'
  // checkov:skip=CKV_AZURE_225: zone redundancy needs Premium v3 with 3+ instances, out of proportion for one school's staff; set zoneRedundant on such a plan if wanted.
  sku: { name: appServiceSku, capacity: instanceCount }
  properties: {
    reserved: true
    zoneRedundant: false
  }
}

resource app 'Microsoft.Web/sites@2023-01-01' = {
  name: names.app
  location: location
  kind: 'app,linux'
  identity: { type: 'SystemAssigned' }
  // checkov:skip=CKV_AZURE_222: the Bot Framework Service calls /api/messages from the internet; every call is authenticated by its JWT (MicrosoftAppId set), and nothing else is served but /healthz.
  // checkov:skip=CKV_AZURE_17: Teams/Bot Framework presents no client certificate; callers are authenticated by the Bot Framework JWT instead.
  // checkov:skip=CKV_AZURE_212: one instance is enough for a school; set instanceCount 2 (on a plan that allows it) for failover — the bot is safe with several on one PostgreSQL.
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    virtualNetworkSubnetId: '${vnet.id}/subnets/app'
    vnetRouteAllEnabled: true
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      linuxFxVersion: 'PYTHON|3.11'
      // `python -m bot`: aiohttp's own runner, which the bot's start-up checks (settings, school config, Graph
      // sign-in) and cleanup contexts are written for; one process per instance, scaled by instances, not workers.
      appCommandLine: 'python -m bot'
      alwaysOn: true
      http20Enabled: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      healthCheckPath: '/healthz'
      // Platform logs (status codes and paths, never bodies): the bot's own log lines carry ids and counts only.
      httpLoggingEnabled: true
      detailedErrorLoggingEnabled: true
      requestTracingEnabled: true
      appSettings: [
        // ---- read by the bot (bot/settings.py)
        { name: 'HOST', value: '0.0.0.0' }
        { name: 'PORT', value: '8000' }
        { name: 'DATABASE_URL', value: '@Microsoft.KeyVault(SecretUri=${dbSecret.properties.secretUri})' }
        { name: 'MicrosoftAppId', value: botAppId }
        { name: 'MicrosoftAppPassword', value: '@Microsoft.KeyVault(SecretUri=${botSecret.properties.secretUri})' }
        { name: 'MicrosoftAppType', value: 'SingleTenant' }
        { name: 'MicrosoftAppTenantId', value: tenantId }
        { name: 'SCHOOL_CONFIG', value: schoolConfigPath }
        { name: 'LOG_LEVEL', value: 'INFO' }
        { name: 'WORKERS', value: 'true' }
        // ---- read by the bot (graph/settings.py): Microsoft Graph as the app's managed identity
        { name: 'GRAPH_USE_MANAGED_IDENTITY', value: 'true' }
        { name: 'GRAPH_TENANT_ID', value: tenantId }
        { name: 'GRAPH_TEAMS_APP_ID', value: teamsCatalogAppId }
        // The dashboard tab's Teams SSO audience: the manifest's webApplicationInfo.resource (BOT_DOMAIN is this
        // app's default host name). With a custom domain, set it to api://<that domain>/botid-<app id> instead.
        { name: 'DASHBOARD_SSO_RESOURCE', value: 'api://${names.app}.azurewebsites.net/botid-${botAppId}' }
        { name: 'TEAMS_APP_ID', value: teamsAppId }
        { name: 'GRAPH_TEAM_ID', value: safeguardingTeamId }
        { name: 'GRAPH_SAFEGUARDING_CHANNEL_ID', value: safeguardingChannelId }
        { name: 'GRAPH_CHANNEL_DRIVE_ID', value: channelDriveId }
        { name: 'GRAPH_CHANNEL_FOLDER_ID', value: channelFolderId }
        // ---- read by the C library (glibc) when the process starts, not by the bot: at most two malloc arenas.
        // glibc gives each thread that allocates (SQLite's connection threads, the executor) an arena of its own,
        // up to 8 per core, and memory freed in one stays resident there; two keep the peak lower for the same
        // work (bench/README.md "Load"). A documented glibc tunable; scripts/run.sh and bench/load.py set it too.
        { name: 'MALLOC_ARENA_MAX', value: '2' }
        // ---- read by App Service itself, not by the bot
        { name: 'WEBSITES_PORT', value: '8000' }
        { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'true' }
        { name: 'WEBSITES_ENABLE_APP_SERVICE_STORAGE', value: 'true' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
      ]
    }
  }
}

// The app's identity may read secrets from this vault, and nothing else in it.
resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, app.id, keyVaultSecretsUser)
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

// ---------------------------------------------------------------- Azure Bot (single tenant), Teams channel

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: names.bot
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: 'Supervision'
    endpoint: 'https://${app.properties.defaultHostName}/api/messages'
    msaAppId: botAppId
    msaAppType: 'SingleTenant'
    msaAppTenantId: tenantId
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

// Written to env/.env.<env> by the toolkit's arm/deploy (see m365agents.yml).
output BOT_AZURE_APP_SERVICE_RESOURCE_ID string = app.id
output BOT_DOMAIN string = app.properties.defaultHostName
output KEY_VAULT_NAME string = vault.name
output APP_PRINCIPAL_ID string = app.identity.principalId
output POSTGRES_HOST string = db.properties.fullyQualifiedDomainName
